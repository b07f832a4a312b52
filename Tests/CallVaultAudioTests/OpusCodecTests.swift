import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultAudio

@Suite("Opus codec (libopus)")
struct OpusCodecTests {
    /// A 440 Hz tone at about −12 dBFS, continuous across frames.
    private func tone(frame: Int, rate: SampleRate) -> [Int16] {
        let n = rate.samplesPerFrame
        return (0..<n).map { i in
            let t = Double(frame * n + i) / Double(rate.rawValue)
            return Int16(8000 * sin(2 * .pi * 440 * t))
        }
    }

    /// Correlation-based amplitude of `frequency` in `samples` (a one-bin DFT).
    private func amplitude(of frequency: Double, in samples: [Int16], rate: Int) -> Double {
        var re = 0.0
        var im = 0.0
        for (i, s) in samples.enumerated() {
            let phase = 2 * .pi * frequency * Double(i) / Double(rate)
            re += Double(s) * cos(phase)
            im += Double(s) * sin(phase)
        }
        return 2 * (re * re + im * im).squareRoot() / Double(samples.count)
    }

    /// One frame through the encoder, via buffers allocated for the call.
    private func encode(_ encoder: OpusEncoder, _ input: [Int16]) throws -> [UInt8] {
        let samples = UnsafeMutableBufferPointer<Int16>.allocate(capacity: input.count)
        defer { samples.deallocate() }
        _ = samples.initialize(from: input)
        let packet = UnsafeMutableRawBufferPointer.allocate(byteCount: OpusEncoder.maximumPacketBytes, alignment: 1)
        defer { packet.deallocate() }
        let length = try encoder.encode(UnsafeBufferPointer(samples), into: packet)
        return Array(packet[0..<length])
    }

    /// One packet (or, for nil, a missing frame) through the decoder.
    private func decode(_ decoder: OpusDecoder, _ packet: [UInt8]?) throws -> [Int16] {
        let samples = UnsafeMutableBufferPointer<Int16>.allocate(capacity: decoder.sampleRate.samplesPerFrame)
        defer { samples.deallocate() }
        samples.initialize(repeating: 0)
        if let packet {
            let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(packet.count, 1), alignment: 1)
            defer { bytes.deallocate() }
            bytes.copyBytes(from: packet)
            try decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[0..<packet.count]), into: samples)
        } else {
            try decoder.decodeMissing(into: samples)
        }
        return Array(samples)
    }

    @Test(arguments: [SampleRate.hz8000, .hz16000, .hz48000])
    func aToneRoundTripsKeepingItsFrequencyAndLevel(rate: SampleRate) throws {
        let encoder = try OpusEncoder(sampleRate: rate, bitrate: 24_000)
        let decoder = try OpusDecoder(sampleRate: rate)
        var decoded: [Int16] = []
        for index in 0..<50 {
            let packet = try encode(encoder, tone(frame: index, rate: rate))
            #expect(packet.count > 0 && packet.count < 200)
            decoded += try decode(decoder, packet)
        }
        // Skip the codec's start-up; compare the steady second half.
        let steady = Array(decoded[(decoded.count / 2)...])
        let level = amplitude(of: 440, in: steady, rate: rate.rawValue)
        #expect(abs(level - 8000) < 1200, "440 Hz amplitude after Opus: \(level)")
        #expect(amplitude(of: 1000, in: steady, rate: rate.rawValue) < 400)
    }

    @Test func lossConcealmentFillsAFrameAndGarbageIsRefused() throws {
        let encoder = try OpusEncoder(sampleRate: .hz8000)
        let decoder = try OpusDecoder(sampleRate: .hz8000)
        _ = try decode(decoder, try encode(encoder, tone(frame: 0, rate: .hz8000)))
        let concealed = try decode(decoder, nil)
        #expect(concealed.count == 160)
        // A TOC byte announcing a code-3 packet with an impossible frame count.
        #expect(throws: AudioError.self) { _ = try decode(decoder, [0xFF, 0xFF, 0xFF, 0x01]) }
        #expect(throws: AudioError.self) { _ = try decode(decoder, []) }
        #expect(throws: AudioError.self) { try OpusEncoder(sampleRate: .hz8000, complexity: 11) }
    }

    @Test func aHigherBitrateMakesLargerPackets() throws {
        func averagePacket(_ bitrate: Int) throws -> Double {
            let encoder = try OpusEncoder(sampleRate: .hz16000, bitrate: bitrate)
            var total = 0
            for index in 0..<50 { total += try encode(encoder, tone(frame: index, rate: .hz16000)).count }
            return Double(total) / 50
        }
        let low = try averagePacket(8_000)
        let high = try averagePacket(48_000)
        #expect(high > low * 2, "8 kb/s: \(low) B, 48 kb/s: \(high) B per frame")
    }

    @Test(arguments: [SampleRate.hz8000, .hz16000])
    func concealmentContinuesTheToneForAMissingFrame(rate: SampleRate) throws {
        let encoder = try OpusEncoder(sampleRate: rate, bitrate: 24_000)
        let decoder = try OpusDecoder(sampleRate: rate)
        for index in 0..<25 { _ = try decode(decoder, try encode(encoder, tone(frame: index, rate: rate))) }
        let concealed = try decode(decoder, nil)
        #expect(concealed.count == rate.samplesPerFrame)
        // The first concealed frame extrapolates the tone rather than dropping to silence.
        let rms = (concealed.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(concealed.count)).squareRoot()
        #expect(rms > 8000 / 2.squareRoot() / 4, "concealed frame RMS \(rms) (the tone's is 5657)")
        // After the gap, real packets decode again.
        let after = try decode(decoder, try encode(encoder, tone(frame: 26, rate: rate)))
        #expect(after.count == rate.samplesPerFrame)
    }

    @Test func wrongLengthsAndOtherDurationsAreTypedErrors() throws {
        let encoder = try OpusEncoder(sampleRate: .hz16000)
        let decoder = try OpusDecoder(sampleRate: .hz16000)
        #expect {
            _ = try encode(encoder, Array(tone(frame: 0, rate: .hz16000).prefix(319)))
        } throws: { ($0 as? AudioError)?.code == .wrongFrameLength }
        let packet = try encode(encoder, tone(frame: 0, rate: .hz16000))
        // The same frame twice in one packet (TOC code 1: two frames of equal size) is 40 ms of audio.
        let twoFrames = [packet[0] & 0xFC | 0x01] + packet[1...] + packet[1...]
        #expect {
            _ = try decode(decoder, twoFrames)
        } throws: { error in
            guard let error = error as? AudioError else { return false }
            return error.code == .invalidOpusPacket && error.message.contains("40 ms")
        }
        // A frame buffer of the wrong length is refused before libopus sees it.
        let short = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
        defer { short.deallocate() }
        #expect {
            try decoder.decodeMissing(into: short)
        } throws: { ($0 as? AudioError)?.code == .wrongFrameLength }
    }

    /// Thousands of random packets: each is a typed error or a whole frame, never a crash, and the
    /// decoder still decodes real packets afterwards.
    @Test func randomGarbageNeverCrashesTheDecoder() throws {
        let encoder = try OpusEncoder(sampleRate: .hz8000)
        let decoder = try OpusDecoder(sampleRate: .hz8000)
        var noise = SeededRandom(seed: 0x0B5E55ED)
        var refused = 0
        var decoded = 0
        for _ in 0..<3000 {
            let length = 1 + Int(noise.next() % 300)
            let garbage = (0..<length).map { _ in UInt8(truncatingIfNeeded: noise.next()) }
            do {
                #expect(try decode(decoder, garbage).count == 160)
                decoded += 1
            } catch let error as AudioError {
                #expect(error.code == .invalidOpusPacket)
                refused += 1
            }
        }
        #expect(refused > 0 && refused + decoded == 3000, "refused \(refused), decoded \(decoded)")
        decoder.reset()
        #expect(try decode(decoder, try encode(encoder, tone(frame: 0, rate: .hz8000))).count == 160)
    }
}
