import CallVaultAudio
import CallVaultIngest
import Foundation
import FuzzSupport

// Fuzzes the AudioSocket TCP framing (AudioSocketParser) and the FrameAssembler its audio feeds.
//
// Input: byte 0 picks the parser's payload limit, byte 1 how the rest is cut into reads (0: one
// read; n: reads of n bytes), the rest is the TCP stream. The same stream is parsed twice, in one
// read and cut into reads, and both must give the same messages and the same error: TCP may
// split anywhere. Audio goes to a FrameAssembler as the AudioSocket session does.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzAudioSocket(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#if !CALLVAULT_FUZZ
@main
enum Standalone {
    static func main() {
        FuzzSupport.main(fuzzAudioSocket)
    }
}
#endif

/// A parsed message or the error that ended parsing, copied out of the parser's buffers.
enum Event: Equatable {
    case uuid(UUID)
    case audio(Int, [UInt8])
    case dtmf(DTMFDigit)
    case hangup
    case error(UInt8)
    case failed(IngestError.Code)
    case finished(IngestError.Code?)
}

func fuzzAudioSocket(_ input: UnsafeRawBufferPointer) {
    guard input.count >= 2 else { return }
    let limits = [16, 320, 16384, 65535]
    let limit = limits[Int(input[0] & 3)]
    let stride = Int(input[1])
    let stream = UnsafeRawBufferPointer(rebasing: input[2...])

    let whole = parse([stream], limit: limit, feedAudio: true)
    var reads: [UnsafeRawBufferPointer] = []
    if stride == 0 {
        reads = [stream]
    } else {
        var offset = 0
        while offset < stream.count {
            reads.append(UnsafeRawBufferPointer(rebasing: stream[offset..<min(offset + stride, stream.count)]))
            offset += stride
        }
    }
    let split = parse(reads, limit: limit, feedAudio: false)
    guard whole == split else {
        FuzzSupport.fail("one read gave \(describe(whole)), reads of \(stride) gave \(describe(split))")
    }
}

func describe(_ events: [Event]) -> String {
    events.map { event in
        if case .audio(let rate, let bytes) = event { return "audio(\(rate), \(bytes.count) bytes)" }
        return "\(event)"
    }.joined(separator: ", ")
}

func parse(_ reads: [UnsafeRawBufferPointer], limit: Int, feedAudio: Bool) -> [Event] {
    let parser = AudioSocketParser(maxPayloadLength: limit)
    var events: [Event] = []
    var assembler: FrameAssembler?
    var lastMs: Int64 = 0
    for read in reads {
        var input = read
        do {
            while let message = try parser.next(from: &input) {
                switch message {
                case .uuid(let uuid): events.append(.uuid(uuid))
                case .dtmf(let digit): events.append(.dtmf(digit))
                case .hangup: events.append(.hangup)
                case .error(let code): events.append(.error(code.rawValue))
                case .audio(let hertz, let payload):
                    guard payload.count > 0, payload.count <= limit, payload.count % 2 == 0 else {
                        FuzzSupport.fail("audio payload of \(payload.count) bytes (limit \(limit))")
                    }
                    events.append(.audio(hertz, Array(payload)))
                    if feedAudio, let rate = try? SampleRate(ingestHertz: hertz) {
                        if assembler?.sampleRate != rate {
                            assembler = FrameAssembler(encoding: .l16LittleEndian, sampleRate: rate, startMs: lastMs)
                        }
                        var chunk = AudioChunk(payload)
                        while let frame = try assembler!.nextFrame(from: &chunk) {
                            guard frame.samples.count == rate.samplesPerFrame else {
                                FuzzSupport.fail("frame of \(frame.samples.count) samples at \(rate)")
                            }
                            lastMs = frame.timestampMs + 20
                        }
                    }
                }
            }
        } catch {
            guard error.code != .timestampOutOfOrder else { FuzzSupport.fail("assembler threw without timestamps") }
            events.append(.failed(error.code))
            // A failed parser keeps failing with the same error.
            var more = UnsafeRawBufferPointer(rebasing: read[0..<0])
            do { _ = try parser.next(from: &more) } catch {
                guard case .failed(error.code)? = events.last else { FuzzSupport.fail("parser changed its error") }
            }
            return events
        }
        guard input.isEmpty else { FuzzSupport.fail("parser returned nil with \(input.count) bytes left") }
    }
    do {
        try parser.finish()
        events.append(.finished(nil))
    } catch {
        events.append(.finished(error.code))
    }
    return events
}
