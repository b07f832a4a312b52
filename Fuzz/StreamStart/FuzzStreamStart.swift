import CallVaultAudio
import CallVaultIngest
import FuzzSupport

// Fuzzes the binary WebSocket endpoint's decoders: the StreamStartMessage JSON, then the binary
// frames that follow through the FrameAssembler it configures (L16 big-endian with samples split
// across frames, or μ-law).
//
// Input: the start message's text, a 0xFF byte, then binary frames, each a length byte and that
// many bytes. Checked beyond "does not crash": an accepted start message obeys its documented
// limits, and the assembler hands out exactly ceil(samples / frame size) whole frames (an odd
// trailing L16 byte is dropped), 20 ms apart.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzStreamStart(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#if !CALLVAULT_FUZZ
@main
enum Standalone {
    static func main() {
        FuzzSupport.main(fuzzStreamStart)
    }
}
#endif

func fuzzStreamStart(_ input: UnsafeRawBufferPointer) {
    let end = input.firstIndex(of: 0xFF) ?? input.count
    let text = UnsafeRawBufferPointer(rebasing: input[0..<end])
    let start: StreamStartMessage
    do {
        start = try StreamStartMessage.parse(text)
    } catch {
        return
    }
    check(start)
    guard end < input.count else { return }
    var rest = UnsafeRawBufferPointer(rebasing: input[(end + 1)...])

    let assembler = FrameAssembler(encoding: start.audioEncoding, sampleRate: start.sampleRate)
    let perFrame = start.sampleRate.samplesPerFrame
    var bytesIn = 0
    var frames = 0
    var lastMs: Int64 = -20
    func take(_ frame: Frame) {
        guard frame.samples.count == perFrame else { FuzzSupport.fail("frame of \(frame.samples.count) samples") }
        guard frame.timestampMs == lastMs + 20 else {
            FuzzSupport.fail("frame at \(frame.timestampMs) ms after one at \(lastMs) ms")
        }
        lastMs = frame.timestampMs
        frames += 1
    }
    while !rest.isEmpty {
        let n = min(Int(rest[0]), rest.count - 1)
        var chunk = AudioChunk(UnsafeRawBufferPointer(rebasing: rest[1..<(1 + n)]))
        rest = UnsafeRawBufferPointer(rebasing: rest[(1 + n)...])
        bytesIn += n
        do {
            while let frame = try assembler.nextFrame(from: &chunk) { take(frame) }
        } catch {
            FuzzSupport.fail("assembler threw \(error.code) without timestamps")
        }
        guard chunk.bytes.isEmpty else { FuzzSupport.fail("assembler left \(chunk.bytes.count) bytes") }
    }
    if let frame = assembler.flush() { take(frame) }
    let samples = start.encoding == .l16 ? bytesIn / 2 : bytesIn
    let expected = (samples + perFrame - 1) / perFrame
    guard frames == expected else {
        FuzzSupport.fail("\(samples) samples made \(frames) frames of \(perFrame), expected \(expected)")
    }
}

func check(_ start: StreamStartMessage) {
    func plain(_ s: String, _ limit: Int) -> Bool {
        !s.isEmpty && s.count <= limit && !s.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }
    guard plain(start.callId, 128), plain(start.tenantToken, 512), start.from.map({ plain($0, 64) }) ?? true,
        start.sampleRate == .hz8000 || start.sampleRate == .hz16000
    else { FuzzSupport.fail("StreamStartMessage accepted a value outside its limits") }
}
