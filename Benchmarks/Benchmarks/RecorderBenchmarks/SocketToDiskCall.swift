import CallVaultIngest
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix

/// One Twilio call through the server's own channel pipeline, from socket bytes to sealed files:
/// masked WebSocket frames (as a client sends them) go into an `EmbeddedChannel` running NIO's frame
/// decoder and the media handler (``MediaWebSocketPipeline``), a real ``IngestContext`` session and
/// recorder on a temporary data directory, `serve`'s own settings (consent not required, as in
/// `scripts/loadtest`).
///
/// The call's catalog work runs off the loop and comes back to it, so the session lives on a real
/// event loop; the embedded channel is made on that loop's thread, so both are one thread and every
/// message is handled in a task on it.
final class SocketToDiskCall: @unchecked Sendable {
    let root: String
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let loop: any EventLoop
    let catalog: Catalog
    let channel: NIOLoopBound<EmbeddedChannel>
    /// The next message's Twilio timestamp; starts at 8 digits so every message is the same length.
    private var timestampMs: Int64 = 10_000_000
    private var templates: [[UInt8]]
    private let timestampOffsets: [Int]
    private var frame: ByteBuffer
    private var sent = 0

    /// Sets up a call and streams until both tracks' recordings are open and sealing.
    init() throws {
        root = NSTemporaryDirectory() + "callvault-socket-bench-\(UUID().uuidString)"
        let directory = DataDirectory(path: root)
        try directory.create()
        try FileRootKey(path: directory.rootKeyPath).create()
        let logger = { var logger = Logger(label: "bench"); logger.logLevel = .error; return logger }()
        let keyStore = try KeyStore(dataDirectory: directory, logger: logger)
        catalog = try Catalog(path: directory.catalogPath)
        let tenant = try catalog.addTenant(name: "bench", policy: TenantPolicy(consentMode: .notRequired)).tenant
        try keyStore.createTenant(tenant.id)
        let context = IngestContext(
            catalog: catalog, keyStore: keyStore, dataDirectory: directory, flushGroup: FlushGroup(),
            liveCalls: LiveCallRegistry(), logger: logger)
        loop = group.next()
        let loop = self.loop
        channel = try loop.submit {
            let channel = EmbeddedChannel()
            let session = context.mediaSessions(.twilio, tenant, .plain, loop)
            try MediaWebSocketPipeline.configure(
                channel.pipeline.syncOperations, session: session, maximumMessageBytes: 64 * 1024,
                metrics: context.metrics, logger: logger)
            return NIOLoopBound(channel, eventLoop: loop)
        }.wait()
        let payload = Data((0..<160).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }).base64EncodedString()
        templates = ["inbound", "outbound"].map { track in
            Array(
                (#"{"event":"media","sequenceNumber":"3","media":{"track":"\#(track)","chunk":"1","timestamp":"10000000","#
                    + #""payload":""# + payload + #""},"streamSid":"MZ1"}"#).utf8)
        }
        timestampOffsets = templates.map { template in
            let marker = Array(#""timestamp":""#.utf8)
            return (0...(template.count - marker.count)).first { Array(template[$0..<$0 + marker.count]) == marker }!
                + marker.count
        }
        frame = ByteBufferAllocator().buffer(capacity: 1024)

        let start = #"{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","#
            + #""callSid":"CA-socket-bench","tracks":["inbound","outbound"],"customParameters":{},"#
            + #""mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ1"}"#
        try submit { call in
            try call.send(Array(#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.utf8))
            try call.send(Array(start.utf8))
        }
        // Media while the call is set up off the loop is held, then both tracks' recordings open.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            try submit { call in for _ in 0..<50 { try call.sendMedia() } }
            if let id = try catalog.call(tenantID: tenant.id, externalID: "CA-socket-bench")?.id,
                try catalog.recordingSummaries(callID: id).count == 2
            {
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        // The open tracks reach the loop after their rows: stream a little longer, then drain.
        Thread.sleep(forTimeInterval: 0.2)
        try submit { call in for _ in 0..<500 { try call.sendMedia() } }
        Thread.sleep(forTimeInterval: 0.2)
    }

    deinit {
        try? group.syncShutdownGracefully()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs `body` on the loop and waits for it.
    func submit(_ body: @escaping @Sendable (SocketToDiskCall) throws -> Void) throws {
        try loop.submit { try body(self) }.wait()
    }

    /// Sends the next media message, tracks alternating, as one masked text frame. Allocation-free:
    /// the timestamp is written into the message template and the frame into a reused buffer.
    func sendMedia() throws {
        let track = sent & 1
        sent += 1
        if track == 0 { timestampMs += 20 }
        var value = timestampMs
        for index in (0..<8).reversed() {
            templates[track][timestampOffsets[track] + index] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
        }
        try templates[track].withUnsafeBytes { try send($0) }
    }

    private func send(_ text: [UInt8]) throws {
        try text.withUnsafeBytes { try send($0) }
    }

    /// Frames `text` as a client must (RFC 6455 §5.3: masked, a new key per frame) and writes it in.
    private func send(_ text: UnsafeRawBufferPointer) throws {
        let mask = UInt32(truncatingIfNeeded: sent &* 0x9E37_79B9) | 0x0101_0101
        frame.clear()
        frame.writeInteger(UInt8(0x81))  // FIN, text
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
        try channel.value.writeInbound(frame)
    }
}
