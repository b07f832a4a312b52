import CallVaultAudio
import CallVaultIngest
import FuzzSupport

// Fuzzes the Twilio Media Streams text decoders: the allocation-free single pass
// (TwilioMessage / TwilioMediaMessage: JSONScanner, Base64, Base64StreamDecoder for escaped
// payloads), TwilioEvent.classify, the Foundation-decoded start and control messages, and the
// FrameAssembler the media payloads feed, one session per input.
//
// Input: text frames separated by 0xFF (a byte that never occurs in UTF-8 JSON). Checked beyond
// "does not crash": classify agrees with the single pass; a payload decoded into a 160-byte
// buffer matches the 16 KiB one or fails with payloadTooLarge; the assemblers only refuse
// out-of-order stamps and hand out whole frames with rising timestamps.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzTwilio(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#if !CALLVAULT_FUZZ
@main
enum Standalone {
    static func main() {
        FuzzSupport.main(fuzzTwilio)
    }
}
#endif

/// One track's assembler and the last frame time it handed out.
final class Track {
    let assembler = FrameAssembler(encoding: .muLaw, sampleRate: .hz8000)
    var lastFrameMs: Int64?

    func take(_ frame: Frame) {
        guard frame.samples.count == 160 else { FuzzSupport.fail("frame of \(frame.samples.count) samples") }
        if let last = lastFrameMs, frame.timestampMs <= last {
            FuzzSupport.fail("frame at \(frame.timestampMs) ms after one at \(last) ms")
        }
        lastFrameMs = frame.timestampMs
    }
}

func fuzzTwilio(_ input: UnsafeRawBufferPointer) {
    let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16)
    let small = UnsafeMutableRawBufferPointer.allocate(byteCount: 160, alignment: 16)
    defer {
        payload.deallocate()
        small.deallocate()
    }
    let inbound = Track(), outbound = Track()
    for text in FuzzSupport.split(input, at: 0xFF) {
        guard receive(text, payload: payload, small: small, inbound: inbound, outbound: outbound) else { return }
    }
    for track in [inbound, outbound] {
        if let frame = track.assembler.flush() { track.take(frame) }
    }
}

/// One text frame as the server handles it; false when the session would be closed.
func receive(
    _ text: UnsafeRawBufferPointer, payload: UnsafeMutableRawBufferPointer, small: UnsafeMutableRawBufferPointer,
    inbound: Track, outbound: Track
) -> Bool {
    let classified: TwilioEvent?
    do { classified = try TwilioEvent.classify(text) } catch { classified = nil }
    let message: TwilioMessage
    do {
        message = try TwilioMessage.parse(text, payloadInto: payload)
    } catch {
        if error.code == .unexpectedEvent { FuzzSupport.fail("TwilioMessage.parse threw unexpectedEvent") }
        return false
    }
    switch message {
    case .other(let event):
        guard classified == event else { FuzzSupport.fail("classify says \(String(describing: classified)), parse says \(event)") }
        switch event {
        case .start:
            if let start = try? TwilioStartMessage.parse(text) {
                guard !start.callSid.isEmpty, !start.tracks.isEmpty, start.sampleRate == 8000, start.channels == 1 else {
                    FuzzSupport.fail("TwilioStartMessage accepted an invalid start")
                }
            }
        case .media:
            FuzzSupport.fail("a media message came back as .other")
        case .connected, .dtmf, .mark, .stop:
            do { _ = try TwilioControlMessage.parse(text) } catch {
                if error.code == .unexpectedEvent { FuzzSupport.fail("control message \(event) refused as unexpected") }
            }
        }
        return true
    case .media(let media):
        guard classified == .media else { FuzzSupport.fail("classify says \(String(describing: classified)) for media") }
        guard media.payloadCount >= 0, media.payloadCount <= payload.count else {
            FuzzSupport.fail("payloadCount \(media.payloadCount)")
        }
        checkSmallBuffer(text, media, payload: payload, small: small)
        let track = media.track == .inbound ? inbound : outbound
        var chunk = AudioChunk(UnsafeRawBufferPointer(rebasing: payload[0..<media.payloadCount]), timestampMs: media.timestampMs)
        do {
            while let frame = try track.assembler.nextFrame(from: &chunk) { track.take(frame) }
        } catch {
            guard error.code == .timestampOutOfOrder else { FuzzSupport.fail("assembler threw \(error.code)") }
            return false
        }
        return true
    }
}

/// The same message into a 160-byte buffer: identical result, or payloadTooLarge if it does not fit.
func checkSmallBuffer(
    _ text: UnsafeRawBufferPointer, _ media: TwilioMediaMessage, payload: UnsafeMutableRawBufferPointer,
    small: UnsafeMutableRawBufferPointer
) {
    do {
        let again = try TwilioMediaMessage.parse(text, payloadInto: small)
        guard again == media else { FuzzSupport.fail("small buffer parse differs: \(again) vs \(media)") }
        guard media.payloadCount <= small.count,
            small[0..<media.payloadCount].elementsEqual(payload[0..<media.payloadCount])
        else { FuzzSupport.fail("small buffer payload differs") }
    } catch {
        guard error.code == .payloadTooLarge, media.payloadCount > small.count else {
            FuzzSupport.fail("small buffer parse threw \(error.code) for a \(media.payloadCount)-byte payload")
        }
    }
}
