import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultAudio

@Suite("Audio files (libsndfile)")
struct AudioFileTests {
    static let samples = Repository.samples

    private func temporary(_ name: String) -> String {
        NSTemporaryDirectory() + "callvault-audio-\(UUID().uuidString)-\(name)"
    }

    @Test func theCommittedSamplesRead() throws {
        let ulaw = try AudioFileReader(path: Self.samples + "/disclosure.ulaw.wav")
        #expect(ulaw.sampleRate == 8000 && ulaw.channels == 1 && ulaw.formatName.contains("U-Law"))
        let audio = try ulaw.readAllMono()
        #expect(audio.count == ulaw.frameCount && ulaw.durationMs > 3000)
        #expect(audio.contains { abs(Int($0)) > 3000 }, "speech, not silence")
        // 16 kHz is not committed (it would only duplicate a resample): make it the way transcription does.
        let widePath = temporary("disclosure.16k.wav")
        defer { try? FileManager.default.removeItem(atPath: widePath) }
        let writer = try AudioFileWriter(path: widePath, sampleRate: 16_000)
        try writer.write(Resampler.resample(audio, from: .hz8000, to: .hz16000))
        try writer.close()
        let wide = try AudioFileReader(path: widePath)
        #expect(wide.sampleRate == 16000 && abs(wide.durationMs - ulaw.durationMs) < 50)
        let flac = try AudioFileReader(path: Self.samples + "/caller.flac")
        #expect(flac.sampleRate == 8000 && flac.formatName.contains("FLAC") && flac.durationMs > 40_000)
    }

    @Test(arguments: ["wav", "flac", "opus"])
    func writtenFilesReadBack(ext: String) throws {
        let path = temporary("tone.\(ext)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let stereo = (0..<16_000).flatMap { i -> [Int16] in
            let t = Double(i) / 8000
            return [Int16(6000 * sin(2 * .pi * 300 * t)), Int16(6000 * sin(2 * .pi * 700 * t))]
        }
        let writer = try AudioFileWriter(path: path, sampleRate: 8000, channels: 2)
        try writer.write(stereo)
        try writer.close()
        let reader = try AudioFileReader(path: path)
        #expect(reader.channels == 2 && abs(reader.durationMs - 2000) <= 30)
        if ext != "opus" {
            let mono = try reader.readAllMono()
            #expect(mono.count == 16_000)
            #expect(
                mono[100] == Int16((Int(stereo[200]) + Int(stereo[201])) / 2),
                "lossless formats keep samples exactly"
            )
        }
    }

    @Test func aTruncatedWAVAndAGarbageFileGetErrorsNamingTheFile() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Self.samples + "/answer.ulaw.wav"))
        let truncated = temporary("cut.wav")
        let garbage = temporary("noise.wav")
        defer {
            try? FileManager.default.removeItem(atPath: truncated)
            try? FileManager.default.removeItem(atPath: garbage)
        }
        try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: truncated))
        try Data((0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }).write(
            to: URL(fileURLWithPath: garbage)
        )
        #expect {
            _ = try AudioFileReader(path: truncated).readAllMono()
        } throws: { error in
            let message = (error as? AudioError)?.message ?? ""
            return message.hasPrefix(truncated) && message.contains("cut short") && message.contains("14361")
        }
        #expect {
            try AudioFileReader(path: garbage)
        } throws: { error in
            (error as? AudioError).map { $0.code == .fileCorrupt && $0.message.hasPrefix(garbage) } ?? false
        }
        #expect {
            try AudioFileReader(path: "/nonexistent/call.wav")
        } throws: { error in
            (error as? AudioError)?.code == .fileUnreadable
        }
        #expect(throws: AudioError.self) { try AudioFileWriter(path: temporary("x.mp3"), sampleRate: 8000) }
    }

    @Test func rawMuLawReadsWhenToldItsFormat() throws {
        let path = temporary("call.ulaw")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data([0xFF, 0x7F, 0x00, 0x80]).write(to: URL(fileURLWithPath: path))
        let reader = try AudioFileReader(path: path, raw: .muLaw)
        #expect(try reader.readAllMono() == [0, 0, -32124, 32124])
    }

    @Test func anOggOpusFileKeepsAToneAndAnUnwritablePathIsNamed() throws {
        let path = temporary("tone.opus")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tone = ToneGenerator.sine(frequency: 1000, amplitude: 8000, sampleRate: 16_000, count: 16_000)
        let writer = try AudioFileWriter(path: path, sampleRate: 16_000)
        try writer.write(tone)
        try writer.close()
        let reader = try AudioFileReader(path: path)
        #expect(reader.sampleRate == 16_000 && reader.formatName.contains("Opus"))
        let decoded = try reader.readAllMono()
        // Lossy, and delayed by the codec's look-ahead: judge the middle by a least-squares tone fit.
        let fit = ToneFit(decoded[4000..<12_000], frequency: 1000, sampleRate: 16_000)
        #expect(abs(fit.amplitude - 8000) < 800 && fit.snrDB > 20, "amplitude \(fit.amplitude), SNR \(fit.snrDB) dB")

        let unwritable = "/nonexistent-dir-\(UUID().uuidString)/call.wav"
        #expect {
            try AudioFileWriter(path: unwritable, sampleRate: 8000)
        } throws: { error in
            guard let error = error as? AudioError else { return false }
            return error.code == .fileWriteFailed && error.message.hasPrefix(unwritable)
        }
    }
}
