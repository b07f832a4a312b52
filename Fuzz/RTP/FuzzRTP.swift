import CallVaultAudio
import CallVaultRTP
import FuzzSupport

// Fuzzes the RTP media layer (CallVaultRTP): the RTP header checks, the stream receiver (sequence
// extension, reorder window, timeline restarts, SSRC epochs, telephone-event), SRTP and SRTCP
// unprotect, and the SDES inline-key parser.
//
// Input: byte 0 picks what the rest is (low two bits): 0 a run of datagrams for a receiver of PCMU, PCMA,
// telephone-event and CN, 1 the same through SRTP first (key and salt: the next 30 bytes; bit 2 of byte 0 picks
// the 32-bit tag; bit 3 sends each datagram to unprotectRTCP instead), 2 telephone-event payloads,
// 3 an `inline:` key parameter. A run of datagrams is [gap ms, length high, length low, bytes...]
// repeated. Checked beyond "no crash": the frames handed out never exceed what real time allows
// (arrival time + the clock tolerance + window, plus the audio the packets carried), frames come out in timeline order
// with the right size, SRTP never returns more bytes than it was given, and each telephone-event
// timestamp is reported at most once.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzRTP(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#if !CALLVAULT_FUZZ
    @main
    enum Standalone {
        static func main() {
            FuzzSupport.main(fuzzRTP)
        }
    }
#endif

func fuzzRTP(_ input: UnsafeRawBufferPointer) {
    guard let mode = input.first else { return }
    let rest = UnsafeRawBufferPointer(rebasing: input[1...])
    switch mode & 3 {
    case 0: receive(rest, srtp: nil, rtcp: false)
    case 1:
        guard rest.count >= 30 else { return }
        let suite: SRTPCryptoSuite = mode & 4 != 0 ? .aesCM128HMACSHA1_32 : .aesCM128HMACSHA1_80
        guard
            let key = try? SRTPKeyParameters(
                suite: suite, masterKey: Array(rest[0..<16]), masterSalt: Array(rest[16..<30]))
        else { FuzzSupport.fail("a 16 + 14 byte key was refused") }
        receive(UnsafeRawBufferPointer(rebasing: rest[30...]), srtp: SRTPContext(key: key), rtcp: mode & 8 != 0)
    case 2: events(rest)
    default:
        let text = String(decoding: rest, as: UTF8.self)
        _ = try? SRTPKeyParameters(suite: .aesCM128HMACSHA1_80, inline: text)
    }
}

struct CheckingSink: RTPStreamSink {
    var nextMs: Int64 = 0
    var frames = 0
    var digits = 0

    mutating func receive(frame: Frame) {
        guard frame.samples.count == frame.sampleRate.samplesPerFrame else { FuzzSupport.fail("frame size") }
        guard frame.timestampMs >= nextMs else { FuzzSupport.fail("frame at \(frame.timestampMs) before \(nextMs)") }
        nextMs = frame.endMs
        frames += 1
    }

    mutating func receive(dtmf: DTMFEvent) { digits += 1 }
}

func receive(_ bytes: UnsafeRawBufferPointer, srtp: SRTPContext?, rtcp: Bool) {
    var map = RTPPayloadMap()
    map.set(.pcmu, for: 0)
    map.set(.pcma, for: 8)
    map.set(.telephoneEvent, for: 101)
    map.set(.comfortNoise, for: 13)
    var configuration = RTPStreamReceiver.Configuration(payloads: map)
    configuration.maxGapMs = 2_000
    guard let receiver = try? RTPStreamReceiver(configuration: configuration) else { FuzzSupport.fail("receiver") }
    var sink = CheckingSink()
    var buffer = [UInt8](repeating: 0, count: 2_048)
    var arrivalMs: UInt64 = 0
    var payloadMs = 0
    var offset = 0
    while offset + 3 <= bytes.count {
        arrivalMs += UInt64(bytes[offset])
        let length = min(Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]), bytes.count - offset - 3, buffer.count)
        offset += 3
        for i in 0..<length { buffer[i] = bytes[offset + i] }
        offset += length
        payloadMs += length / 8 + 1
        buffer.withUnsafeMutableBytes { raw in
            let datagram = UnsafeMutableRawBufferPointer(rebasing: raw[0..<length])
            var plain = length
            if let srtp {
                do throws(SRTPError) {
                    plain = rtcp ? try srtp.unprotectRTCP(datagram) : try srtp.unprotect(datagram)
                } catch {
                    _ = error.description
                    return
                }
                guard plain <= length else { FuzzSupport.fail("unprotect grew \(length) to \(plain)") }
            }
            receiver.receive(
                UnsafeRawBufferPointer(rebasing: raw[0..<plain]), arrivalNanos: arrivalMs * 1_000_000, into: &sink)
        }
    }
    receiver.flush(into: &sink)
    // Silence is never made faster than real time: the timeline reaches at most arrival time +
    // tolerance (1 s) + window (60 ms) + a frame, plus the audio the packets themselves carried
    // (at most a byte per 8 kHz sample), which a packet always contributes.
    let allowedMs = Int64(arrivalMs) + 1_000 + 60 + 20 + Int64(payloadMs)
    guard Int64(sink.frames) * 20 <= allowedMs else {
        FuzzSupport.fail("\(sink.frames) frames after \(arrivalMs) ms of arrivals")
    }
}

func events(_ bytes: UnsafeRawBufferPointer) {
    var decoder = TelephoneEventDecoder()
    var recent: [UInt32] = []
    var offset = 0
    while offset + 6 <= bytes.count {
        let timestamp = UInt32(bytes[offset]) << 8 | UInt32(bytes[offset + 1])
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + 2)..<(offset + 6)])
        offset += 6
        guard let event = TelephoneEvent(payload: payload) else { FuzzSupport.fail("4-byte event refused") }
        if decoder.decode(event, timestamp: timestamp) != nil {
            // The decoder remembers the last four events: none of them may be reported again.
            if recent.contains(timestamp) { FuzzSupport.fail("event \(timestamp) reported twice") }
            recent.append(timestamp)
            if recent.count > 4 { recent.removeFirst() }
        }
    }
}
