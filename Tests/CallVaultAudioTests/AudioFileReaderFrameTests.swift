import Foundation
import Testing

@testable import CallVaultAudio

/// `AudioFileReader.readFrame`: files as the same 20 ms frames live audio comes in.
@Suite("Audio files as 20 ms frames")
struct AudioFileReaderFrameTests {
    private func temporary(_ name: String) -> String {
        NSTemporaryDirectory() + "callvault-frames-\(UUID().uuidString)-\(name)"
    }

    /// Every frame of `reader`, concatenated, and the sample counts `readFrame` returned.
    private func readFrames(
        _ reader: AudioFileReader,
        _ selection: AudioFileReader.ChannelSelection = .mix
    ) throws -> (samples: [Int16], counts: [Int]) {
        let frame = UnsafeMutableBufferPointer<Int16>.allocate(capacity: reader.samplesPerFrame)
        defer { frame.deallocate() }
        var samples: [Int16] = []
        var counts: [Int] = []
        while true {
            let count = try reader.readFrame(into: frame, channels: selection)
            if count == 0 { break }
            counts.append(count)
            samples += frame.prefix(count)
        }
        return (samples, counts)
    }

    @Test(arguments: ["caller.flac", "disclosure.ulaw.wav", "dtmf-1.ulaw.wav"])
    func aCommittedSampleReadsAsFramesEqualToTheWholeFile(name: String) throws {
        let path = AudioFileTests.samples + "/" + name
        let whole = try AudioFileReader(path: path).readAllMono()
        let reader = try AudioFileReader(path: path)
        #expect(reader.samplesPerFrame == 160)
        let (samples, counts) = try readFrames(reader)
        #expect(samples == whole)
        #expect(counts.count == (reader.frameCount + 159) / 160)
        #expect(counts.dropLast().allSatisfy { $0 == 160 })
    }

    @Test func aStereoFileGivesEitherChannelOrTheirMix() throws {
        let path = temporary("stereo.wav")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let left = (0..<4000).map { Int16(truncatingIfNeeded: ($0 * 37) % 20_000 - 10_000) }
        let right = (0..<4000).map { Int16(truncatingIfNeeded: ($0 * 91) % 16_000 - 8_000) }
        let writer = try AudioFileWriter(path: path, sampleRate: 16_000, channels: 2)
        try writer.write(zip(left, right).flatMap { [$0, $1] })
        try writer.close()

        #expect(try readFrames(AudioFileReader(path: path), .channel(0)).samples == left)
        #expect(try readFrames(AudioFileReader(path: path), .channel(1)).samples == right)
        let mixed = try readFrames(AudioFileReader(path: path), .mix)
        #expect(mixed.samples == zip(left, right).map { Int16((Int($0) + Int($1)) / 2) })
        #expect(mixed.counts == Array(repeating: 320, count: 12) + [160])
        #expect(try AudioFileReader(path: path).readAll(.channel(1)) == right)

        let reader = try AudioFileReader(path: path)
        let frame = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 320)
        defer { frame.deallocate() }
        #expect {
            _ = try reader.readFrame(into: frame, channels: .channel(2))
        } throws: { error in
            guard let error = error as? AudioError else { return false }
            return error.code == .unsupportedFormat && error.message.hasPrefix(path)
        }
        let wrong = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
        defer { wrong.deallocate() }
        #expect {
            _ = try reader.readFrame(into: wrong)
        } throws: { ($0 as? AudioError)?.code == .wrongFrameLength }
    }

    @Test func aTruncatedFLACFailsWhileStreamingNamingTheFile() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: AudioFileTests.samples + "/caller.flac"))
        let path = temporary("cut.flac")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: path))
        #expect {
            let reader = try AudioFileReader(path: path)
            _ = try readFrames(reader)
        } throws: { error in
            guard let error = error as? AudioError else { return false }
            return error.code == .fileCorrupt && error.message.hasPrefix(path)
        }
    }
}
