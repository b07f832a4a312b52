import CallVaultAudio
import Foundation
@testable import CallVaultRTP

/// Builds an RTP packet: 12-byte header (version 2) + payload.
func rtpPacket(
    pt: UInt8, seq: UInt16, ts: UInt32, ssrc: UInt32 = 0x1234_5678, marker: Bool = false, payload: [UInt8]
) -> [UInt8] {
    var bytes: [UInt8] = [0x80, (marker ? 0x80 : 0) | pt]
    bytes += [UInt8(seq >> 8), UInt8(seq & 0xFF)]
    bytes += [UInt8(ts >> 24), UInt8((ts >> 16) & 0xFF), UInt8((ts >> 8) & 0xFF), UInt8(ts & 0xFF)]
    bytes += [UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
    return bytes + payload
}

/// Collects frames (copied out of the ring) and digits.
struct CollectingSink: RTPStreamSink {
    var frames: [(timestampMs: Int64, samples: [Int16])] = []
    var digits: [DTMFEvent] = []

    mutating func receive(frame: Frame) {
        frames.append((frame.timestampMs, Array(frame.samples)))
    }

    mutating func receive(dtmf: DTMFEvent) {
        digits.append(dtmf)
    }

    /// All samples in order.
    var samples: [Int16] { frames.flatMap(\.samples) }
}

/// A receiver for a PCMU (0) + telephone-event (101) + CN (13) stream.
func pcmuReceiver(window: Int = 60, maxGapMs: Int = 60_000) throws -> RTPStreamReceiver {
    var map = RTPPayloadMap()
    map.set(.pcmu, for: 0)
    map.set(.telephoneEvent, for: 101)
    map.set(.comfortNoise, for: 13)
    var configuration = RTPStreamReceiver.Configuration(payloads: map)
    configuration.reorderWindowMs = window
    configuration.maxGapMs = maxGapMs
    return try RTPStreamReceiver(configuration: configuration)
}

/// 20 ms of μ-law whose every sample decodes to the value of `code`.
func muLawPayload(_ code: UInt8, count: Int = 160) -> [UInt8] { [UInt8](repeating: code, count: count) }

extension RTPStreamReceiver {
    @discardableResult
    func receive(_ bytes: [UInt8], atMs ms: UInt64, into sink: inout CollectingSink) -> RTPReceiveOutcome {
        bytes.withUnsafeBytes { receive($0, arrivalNanos: ms * 1_000_000, into: &sink) }
    }
}

func hex(_ string: String) -> [UInt8] {
    var out: [UInt8] = []
    var chars = Array(string.filter { !$0.isWhitespace })
    if chars.count % 2 == 1 { chars.insert("0", at: 0) }
    var i = 0
    while i < chars.count {
        out.append(UInt8(String(chars[i...i + 1]), radix: 16)!)
        i += 2
    }
    return out
}

/// Goertzel power of `frequency` in `samples` at `rate`, normalised by the signal's energy (0...1).
func toneShare(_ samples: ArraySlice<Double>, frequency: Double, rate: Double) -> Double {
    let k = 2 * cos(2 * Double.pi * frequency / rate)
    var s1 = 0.0, s2 = 0.0, energy = 0.0
    for x in samples {
        let s = x + k * s1 - s2
        s2 = s1
        s1 = s
        energy += x * x
    }
    let power = s1 * s1 + s2 * s2 - k * s1 * s2
    return energy == 0 ? 0 : 2 * power / (Double(samples.count) * energy)
}
