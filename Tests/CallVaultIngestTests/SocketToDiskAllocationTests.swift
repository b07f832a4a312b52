import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@testable import CallVaultIngest

/// The ingest's promise, counted: once a call is set up, a media message costs no heap allocation from
/// the bytes of a read to the sealed file. Masked Twilio `media` frames (a new key each, as clients
/// send them) go through the server's own pipeline (``MediaWebSocketPipeline`` on an `EmbeddedChannel`)
/// into the session and recorder `serve` makes, on a real event loop's thread.
///
/// Needs the malloc counter preloaded (``MallocCounter``); `scripts/test` builds it and runs this suite
/// with it, and there `CALLVAULT_REQUIRE_MALLOC_COUNTER=1` turns its absence into a failure. The
/// release-build figure (time and mallocs) is `SocketToDisk_twilio_masked_frame_to_sealed_file`.
@Suite(.serialized) struct SocketToDiskAllocationTests {
    static let counterMissing = "no malloc counter preloaded (LD_PRELOAD of scripts/malloc-counter.c); allocation counts not measured"

    @Test func theCounterIsThereWhenTheRunRequiresIt() {
        guard ProcessInfo.processInfo.environment["CALLVAULT_REQUIRE_MALLOC_COUNTER"] == "1" else { return }
        #expect(MallocCounter.isAvailable, "\(Self.counterMissing)")
    }

    @Test(.enabled(if: MallocCounter.isAvailable, "\(counterMissing)"))
    func aMediaMessageFromSocketBytesToSealedFileAllocatesNothing() throws {
        let call = try MaskedTwilioCall()
        defer { call.close() }
        try call.streamUntilBothTracksRecord()
        let bytesBefore = try call.storedBytes()
        let messages = 1_000
        let allocations = try call.onLoop { call in try MallocCounter.count { try call.sendMedia(messages) } }
        print("allocations in \(messages) masked Twilio media frames, socket bytes to sealed file: \(allocations)")
        #expect(allocations == 0)
        #expect(try poll(timeout: .seconds(10)) { try call.storedBytes() > bytesBefore }, "the frames were sealed and stored")
        // Control: the counter counts on this path (a frame object per message, as NIO's decoder makes).
        #expect(try call.onLoop { _ in MallocCounter.count { _ = WebSocketFrameHeadProbe.make() } } > 0)
    }
}

/// What the control above allocates: one class instance, as a frame object per message would.
private final class WebSocketFrameHeadProbe {
    let bytes: [UInt8]
    init() { bytes = [1, 2, 3] }
    @inline(never) static func make() -> WebSocketFrameHeadProbe { WebSocketFrameHeadProbe() }
}

/// One Twilio call through the server's pipeline, on one event loop's thread.
private final class MaskedTwilioCall: @unchecked Sendable {
    let directory: TemporaryDirectory
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let loop: any EventLoop
    let catalog: Catalog
    let tenantID: String
    let flushGroup: FlushGroup
    private var channel: EmbeddedChannel?
    private var timestampMs: Int64 = 10_000_000
    private var sent = 0
    private var templates: [[UInt8]] = []
    private var timestampOffsets: [Int] = []
    private var frame = ByteBufferAllocator().buffer(capacity: 1024)

    init() throws {
        directory = try TemporaryDirectory("socket-to-disk")
        let data = DataDirectory(path: directory.appending("data"))
        try data.create()
        try FileRootKey(path: data.rootKeyPath).create()
        let logger = Logger(label: "alloc", factory: { _ in SwiftLogNoOpLogHandler() })
        let keyStore = try KeyStore(dataDirectory: data, logger: logger)
        catalog = try Catalog(path: data.catalogPath)
        let tenant = try catalog.addTenant(name: "alloc", policy: TenantPolicy(consentMode: .notRequired)).tenant
        tenantID = tenant.id
        try keyStore.createTenant(tenant.id)
        flushGroup = FlushGroup(interval: .milliseconds(50), catalog: catalog, logger: logger)
        flushGroup.start()
        let context = IngestContext(
            catalog: catalog, keyStore: keyStore, dataDirectory: data, flushGroup: flushGroup,
            liveCalls: LiveCallRegistry(), logger: logger)
        loop = group.next()
        let payload = Data((0..<160).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }).base64EncodedString()
        templates = ["inbound", "outbound"].map { track in
            Array(
                (#"{"event":"media","sequenceNumber":"3","media":{"track":"\#(track)","chunk":"1","timestamp":"10000000","#
                    + #""payload":""# + payload + #""},"streamSid":"MZ1"}"#).utf8)
        }
        let marker = Array(#""timestamp":""#.utf8)
        timestampOffsets = templates.map { template in
            (0...(template.count - marker.count)).first { Array(template[$0..<$0 + marker.count]) == marker }! + marker.count
        }
        try onLoop { call in
            let channel = EmbeddedChannel()
            try MediaWebSocketPipeline.configure(
                channel.pipeline.syncOperations, session: context.mediaSessions(.twilio, tenant, .plain, call.loop),
                maximumMessageBytes: 64 * 1024, metrics: context.metrics, logger: logger)
            call.channel = channel
            try call.send(Array(#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.utf8))
            try call.send(
                Array(
                    (#"{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","#
                        + #""callSid":"CA-alloc","tracks":["inbound","outbound"],"customParameters":{},"#
                        + #""mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ1"}"#)
                        .utf8))
        }
    }

    func close() {
        try? onLoop { call in
            _ = try? call.channel?.finish()
            call.channel = nil  // released on the thread that made it
        }
        flushGroup.stop()
        try? group.syncShutdownGracefully()
    }

    /// Runs `body` on the loop's thread and waits for it.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (MaskedTwilioCall) throws -> T) throws -> T {
        try loop.submit { try body(self) }.wait()
    }

    /// Streams (off-loop catalog work comes back to the loop) until both tracks' recordings are open, then
    /// a little longer so the opened tracks reach the recorder and held frames are drained.
    func streamUntilBothTracksRecord() throws {
        let opened = try poll(timeout: .seconds(30)) {
            try self.onLoop { call in try call.sendMedia(50) }
            guard let id = try self.catalog.call(tenantID: self.tenantID, externalID: "CA-alloc")?.id else { return false }
            return try self.catalog.recordingSummaries(callID: id).count == 2
        }
        #expect(opened, "both tracks' recordings opened")
        Thread.sleep(forTimeInterval: 0.2)
        try onLoop { call in try call.sendMedia(500) }
        Thread.sleep(forTimeInterval: 0.2)
    }

    /// Sealed bytes of the call's recordings, as the flush group's progress last stored them.
    func storedBytes() throws -> Int64 {
        guard let id = try catalog.call(tenantID: tenantID, externalID: "CA-alloc")?.id else { return 0 }
        return try catalog.recordingSummaries(callID: id).reduce(0) { $0 + $1.bytes }
    }

    /// Sends `count` media messages, tracks alternating, each a masked text frame built in reused storage.
    func sendMedia(_ count: Int) throws {
        for _ in 0..<count {
            let track = sent & 1
            sent += 1
            if track == 0 { timestampMs += 20 }
            var value = timestampMs
            var index = timestampOffsets[track] + 7  // 8 digits, written from the last (no iterator: debug builds allocate one)
            while index >= timestampOffsets[track] {
                templates[track][index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
                index -= 1
            }
            try templates[track].withUnsafeBytes { try send($0) }
        }
    }

    private func send(_ text: [UInt8]) throws { try text.withUnsafeBytes { try send($0) } }

    /// Frames `text` as a client must (RFC 6455 §5.3: masked, a new key per frame) and writes it in.
    private func send(_ text: UnsafeRawBufferPointer) throws {
        let mask = UInt32(truncatingIfNeeded: sent &* 0x9E37_79B9) | 0x0101_0101
        frame.clear()
        frame.writeInteger(UInt8(0x81))
        if text.count < 126 {
            frame.writeInteger(UInt8(0x80) | UInt8(text.count))
        } else {
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(text.count))
        }
        frame.writeInteger(mask)
        frame.writeWithUnsafeMutableBytes(minimumWritableBytes: text.count) { target in
            for index in 0..<text.count {
                target[index] = text[index] ^ UInt8(truncatingIfNeeded: mask >> (24 - 8 * (index & 3)))
            }
            return text.count
        }
        try channel!.writeInbound(frame)
    }
}
