import CSpanDSP
import Foundation
import Testing

@testable import CallVaultRTP

@Suite struct G722DecoderTests {
    /// Encodes a 1 kHz tone with spandsp's G.722 encoder, decodes it with ``G722Decoder`` in 20 ms
    /// packets (the ADPCM state carried across them), and checks the tone comes back: most of the
    /// energy at 1 kHz and a waveform SNR over 20 dB against the input (at the codec's delay).
    @Test func decodesEncodedToneFaithfully() throws {
        let rate = 16_000.0
        let count = 16_000
        let input: [Int16] = (0..<count).map { Int16(8_000 * sin(2 * Double.pi * 1_000 * Double($0) / rate)) }
        var encoded = [UInt8](repeating: 0, count: count / 2)
        let encoder = try #require(g722_encode_init(nil, 64_000, 0))
        defer { g722_encode_free(encoder) }
        let produced = input.withUnsafeBufferPointer { pcm in
            encoded.withUnsafeMutableBufferPointer { g722_encode(encoder, $0.baseAddress, pcm.baseAddress, Int32(count)) }
        }
        #expect(produced == Int32(count / 2))

        let decoder = G722Decoder()
        var output = [Int16](repeating: 0, count: count)
        var written = 0
        for start in stride(from: 0, to: encoded.count, by: 160) {
            written += encoded[start..<(start + 160)].withUnsafeBytes { packet in
                output.withUnsafeMutableBufferPointer { out in
                    decoder.decode(packet, into: UnsafeMutableBufferPointer(rebasing: out[written..<(written + 320)]))
                }
            }
        }
        #expect(written == count)
        let decoded = output.dropFirst(1_600).map(Double.init)
        #expect(toneShare(decoded[...], frequency: 1_000, rate: rate) > 0.9)

        // Best alignment (the QMF pair delays by a few dozen samples), then the SNR.
        var best = -Double.infinity
        for lag in 0..<64 {
            var signal = 0.0, noise = 0.0
            for i in 1_600..<(count - 64) {
                let x = Double(input[i]), y = Double(output[i + lag])
                signal += x * x
                noise += (x - y) * (x - y)
            }
            best = max(best, 10 * log10(signal / max(noise, 1)))
        }
        #expect(best > 20, "SNR \(best) dB")
    }

    @Test func ignoresAnOutputBufferTooSmall() {
        let decoder = G722Decoder()
        var out = [Int16](repeating: 0, count: 3)
        let n = [UInt8](repeating: 0, count: 10).withUnsafeBytes { payload in
            out.withUnsafeMutableBufferPointer { decoder.decode(payload, into: $0) }
        }
        #expect(n == 2)
    }
}
