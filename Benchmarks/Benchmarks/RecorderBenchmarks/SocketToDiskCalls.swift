import CallVaultIngest
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import Synchronization

/// Twilio calls through the server's own channel pipeline, from socket bytes to sealed files:
/// masked WebSocket frames (as a client sends them) go into an `EmbeddedChannel` per call running the
/// media handler (``MediaWebSocketPipeline``), a real ``IngestContext`` session and recorder on a
/// temporary data directory, `serve`'s own settings (consent not required, as in `scripts/loadtest`).
///
/// With one call its state stays in the cache between messages; with a thousand, taken in turn (both
/// tracks of a call, then the next call, as a live server reads them), every call's objects and
/// buffers are cold again when its turn comes, as in a live server: the difference between the two is
/// what the working set of many calls costs per message, without the kernel's or NIO's read path.
///
/// The call's catalog work runs off the loop and comes back to it, so the session lives on a real
/// event loop; the embedded channel is made on that loop's thread, so both are one thread and every
/// message is handled in a task on it.
final class SocketToDiskCalls: @unchecked Sendable {
    let root: String
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let loop: any EventLoop
    let catalog: Catalog
    let channels: [NIOLoopBound<EmbeddedChannel>]
    /// Calls the server closed (counted as their channels close).
    private let closed: ClosedCalls
    /// Each call's next message's Twilio timestamp; starts at 8 digits so every message is the same length.
    private var timestampsMs: [Int64]
    private var templates: [[UInt8]]
    private let timestampOffsets: [Int]
    private var frame: ByteBuffer
    private var sent = 0

    /// Sets up `count` calls and streams until every call's two recordings are open and sealing.
    init(count: Int = 1) throws {
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
            liveCalls: LiveCallRegistry(), logger: logger,
            // As `scripts/cpu-per-message` runs `serve`: no stream limit below the calls measured.
            limits: IngestLimits(maximumStreamsPerTenant: 20_000, maximumStreams: 20_000))
        loop = group.next()
        let loop = self.loop
        let closed = ClosedCalls()
        self.closed = closed
        channels = try loop.submit {
            try (0..<count).map { _ in
                let channel = EmbeddedChannel()
                channel.closeFuture.whenComplete { _ in closed.count.add(1, ordering: .relaxed) }
                let session = context.mediaSessions(.twilio, tenant, .plain, loop)
                try MediaWebSocketPipeline.configure(
                    channel.pipeline.syncOperations, session: session, maximumMessageBytes: 64 * 1024,
                    metrics: context.metrics, logger: logger)
                return NIOLoopBound(channel, eventLoop: loop)
            }
        }.wait()
        timestampsMs = Array(repeating: 10_000_000, count: count)
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

        try submit { calls in
            for index in 0..<count {
                let start = #"{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","#
                    + #""callSid":"CA-socket-bench-\#(index)","tracks":["inbound","outbound"],"customParameters":{},"#
                    + #""mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ1"}"#
                try calls.send(Array(#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.utf8), to: index)
                try calls.send(Array(start.utf8), to: index)
            }
        }
        // Media while a call is set up off the loop is held, then both tracks' recordings open. One frame of
        // each track per call per round: a call whose setup waits behind a thousand others must not hold
        // more audio than the server allows (it would be refused).
        let deadline = Date().addingTimeInterval(30 + Double(count) / 20)
        var open = 0
        while Date() < deadline, open < count {
            try submit { calls in for _ in 0..<(2 * count) { try calls.sendMedia() } }
            open = 0
            for index in 0..<count {
                guard let id = try catalog.call(tenantID: tenant.id, externalID: "CA-socket-bench-\(index)")?.id,
                    try catalog.recordingSummaries(callID: id).count == 2
                else { break }
                open += 1
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard open == count else { throw SetUpError(message: "only \(open) of \(count) calls opened both recordings") }
        // The open tracks reach the loop after their rows: stream a little longer, then drain.
        Thread.sleep(forTimeInterval: 0.2)
        try submit { calls in for _ in 0..<(500 * count) { try calls.sendMedia() } }
        Thread.sleep(forTimeInterval: 0.2)
        // A call the server closed (held audio past its limit while the catalog lagged) would be measured
        // doing nothing.
        let refused = closed.count.load(ordering: .relaxed)
        guard refused == 0 else { throw SetUpError(message: "\(refused) of \(count) calls were closed while set up") }
    }

    deinit {
        try? group.syncShutdownGracefully()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs `body` on the loop and waits for it.
    func submit(_ body: @escaping @Sendable (SocketToDiskCalls) throws -> Void) throws {
        try loop.submit { try body(self) }.wait()
    }

    /// Sends the next media message as one masked text frame: a call's two tracks, then the next call's.
    /// Allocation-free: the timestamp is written into the message template and the frame into a reused buffer.
    func sendMedia() throws {
        let track = sent & 1
        let call = (sent >> 1) % channels.count
        if track == 0 { timestampsMs[call] += 20 }
        var value = timestampsMs[call]
        for index in (0..<8).reversed() {
            templates[track][timestampOffsets[track] + index] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
        }
        try templates[track].withUnsafeBytes { try send($0, to: call) }
        sent += 1
    }

    private func send(_ text: [UInt8], to call: Int) throws {
        try text.withUnsafeBytes { try send($0, to: call) }
    }

    /// Frames `text` as a client must (RFC 6455 §5.3: masked, a new key per frame) and writes it in.
    private func send(_ text: UnsafeRawBufferPointer, to call: Int) throws {
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
        try channels[call].value.writeInbound(frame)
    }
}

final class ClosedCalls: Sendable {
    let count = Atomic<Int>(0)
}

struct SetUpError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
