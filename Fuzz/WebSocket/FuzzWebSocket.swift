import CallVaultIngest
import FuzzSupport
import Logging
import NIOCore
import NIOEmbedded

// Fuzzes the media WebSocket's own frame reader (WebSocketFrameHead and MediaWebSocketHandler, through
// MediaWebSocketPipeline on an EmbeddedChannel, as the server runs it).
//
// Input: byte 0 picks the message limit (low 2 bits: 16, 125, 300, 4096); byte 1 how the rest is cut
// into reads (0: one read; 1...127: reads of that many bytes; 128...255: reads of 1...16 bytes, sizes
// from a generator seeded by the byte); the rest is what the client sent. The same bytes go in once in
// one read and once cut into reads: the session must see the same messages and end, and the client the
// same bytes back (pongs, one close), whatever the cuts. Beyond that: no message over the limit, at most
// one close frame written, with a code the server may send, and nothing read after it closed.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzWebSocket(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#if !CALLVAULT_FUZZ
@main
enum Standalone {
    static func main() {
        FuzzSupport.main(fuzzWebSocket)
    }
}
#endif

/// What the session saw.
enum Event: Equatable {
    case text([UInt8])
    case binary([UInt8])
    case end(UInt16)
}

/// Records what it is handed; a text message "close" makes it close the stream (1008), as a session
/// refusing a message does.
final class RecordingSession: MediaSession {
    var events: [Event] = []
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func receiveText(_ bytes: UnsafeRawBufferPointer) -> MediaClose? {
        check(bytes)
        events.append(.text(Array(bytes)))
        return bytes.elementsEqual("close".utf8) ? .policy("asked to") : nil
    }

    func receiveBinary(_ bytes: UnsafeRawBufferPointer) -> MediaClose? {
        check(bytes)
        events.append(.binary(Array(bytes)))
        return nil
    }

    func end(_ reason: MediaClose) {
        if events.contains(where: { if case .end = $0 { true } else { false } }) { FuzzSupport.fail("ended twice") }
        events.append(.end(reason.code))
    }

    private func check(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > limit { FuzzSupport.fail("a message of \(bytes.count) bytes over the \(limit)-byte limit") }
        if case .end? = events.last { FuzzSupport.fail("a message after the end") }
    }
}

struct Outcome: Equatable {
    var events: [Event]
    var written: [UInt8]
    var active: Bool
}

let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
let metrics = IngestMetrics()

func fuzzWebSocket(_ input: UnsafeRawBufferPointer) {
    guard input.count >= 2 else { return }
    let limit = [16, 125, 300, 4096][Int(input[0] & 3)]
    let cut = input[1]
    let stream = UnsafeRawBufferPointer(rebasing: input[2...])

    var reads: [UnsafeRawBufferPointer] = []
    var offset = 0
    var state = UInt32(cut) &* 2_654_435_761 | 1
    while offset < stream.count {
        var size = stream.count
        if cut >= 128 {
            state = state &* 1_664_525 &+ 1_013_904_223
            size = Int(state >> 28) + 1
        } else if cut > 0 {
            size = Int(cut)
        }
        reads.append(UnsafeRawBufferPointer(rebasing: stream[offset..<min(offset + size, stream.count)]))
        offset += size
    }
    let whole = run([stream], limit: limit)
    let split = run(reads, limit: limit)
    guard whole == split else {
        FuzzSupport.fail("one read gave \(whole), \(reads.count) reads (\(reads.map(\.count))) gave \(split)")
    }
}

func run(_ reads: [UnsafeRawBufferPointer], limit: Int) -> Outcome {
    let channel = EmbeddedChannel()
    let session = RecordingSession(limit: limit)
    do {
        try MediaWebSocketPipeline.configure(
            channel.pipeline.syncOperations, session: session, maximumMessageBytes: limit, metrics: metrics,
            logger: logger)
        // Active, as a connected socket is: closing it makes it inactive.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    } catch {
        FuzzSupport.fail("pipeline: \(error)")
    }
    var written: [UInt8] = []
    for read in reads {
        guard channel.isActive else { break }
        do {
            try channel.writeInbound(ByteBuffer(bytes: read))
        } catch {
            FuzzSupport.fail("writeInbound threw \(error)")
        }
        while let part = try? channel.readOutbound(as: ByteBuffer.self) { written += part.readableBytesView }
    }
    let active = channel.isActive
    checkWritten(written, active: active)
    // A close from inside a read leaves the pipeline's teardown queued on the embedded loop, and
    // `finish()` on a closed channel does not run it: run it here, or the channel leaks (a cycle).
    channel.embeddedEventLoop.run()
    _ = try? channel.finish()
    return Outcome(events: session.events, written: written, active: active)
}

/// The server's frames: unmasked, final, pongs then at most one close with a code it may send, which
/// closed the connection.
func checkWritten(_ bytes: [UInt8], active: Bool) {
    var index = 0
    var closes = 0
    while index < bytes.count {
        guard index + 2 <= bytes.count else { FuzzSupport.fail("a cut frame written") }
        let first = bytes[index]
        let length = Int(bytes[index + 1])
        guard length < 126 else { FuzzSupport.fail("a control frame of \(length) bytes written") }
        index += 2
        guard first & 0x80 != 0, index + length <= bytes.count else { FuzzSupport.fail("a bad frame written") }
        switch first & 0x0F {
        case 0xA:
            guard closes == 0 else { FuzzSupport.fail("a pong after the close") }
        case 0x8:
            closes += 1
            guard closes == 1 else { FuzzSupport.fail("two closes written") }
            guard length >= 2 else { FuzzSupport.fail("a close without a code") }
            let code = UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
            guard [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014].contains(code)
                || (3000...4999).contains(code)
            else { FuzzSupport.fail("close code \(code) written") }
        default:
            FuzzSupport.fail("opcode \(first & 0x0F) written")
        }
        index += length
    }
    if closes == 1 && active { FuzzSupport.fail("closed with the connection left open") }
}
