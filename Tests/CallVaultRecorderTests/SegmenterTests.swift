import CallVaultArchive
import CallVaultAudio
import CallVaultModel
import Testing

@testable import CallVaultRecorder

/// Keeps every payload it is given (copied), for inspection.
final class CollectingSink: SegmentSink {
    var payloads: [[UInt8]] = []
    var frameCounts: [Int] = []
    func write(segment: UnsafeRawBufferPointer, frameCount: Int) throws(RecorderError) {
        payloads.append(Array(segment))
        frameCounts.append(frameCount)
    }
}

@Suite("Segmenter")
struct SegmenterTests {
    /// Feeds `count` frames of a ramp signal (sample = frame index * 7 + position) at 20 ms steps.
    private func feed(
        _ segmenter: Segmenter, _ sink: CollectingSink, frames: some Sequence<Int>, startMs: Int64 = 0,
        rate: SampleRate = .hz8000
    ) throws {
        let samples = UnsafeMutableBufferPointer<Int16>.allocate(capacity: rate.samplesPerFrame)
        defer { samples.deallocate() }
        for index in frames {
            for position in 0..<samples.count { samples[position] = Int16(truncatingIfNeeded: index * 7 + position) }
            try segmenter.append(
                Frame(samples: samples, sampleRate: rate, timestampMs: startMs + Int64(index) * 20), into: sink)
        }
    }

    private func parse(_ payload: [UInt8]) throws -> (SegmentPayload, [UInt8]) {
        try payload.withUnsafeBytes { bytes in
            let parsed = try SegmentPayload(parsing: bytes)
            return (parsed, Array(parsed.audio))
        }
    }

    @Test func onesSecondSegmentsCarryTheirFirstFrameTimeAndExactSamples() throws {
        let segmenter = try Segmenter(codec: .pcm16, sampleRate: .hz8000)
        let sink = CollectingSink()
        try feed(segmenter, sink, frames: 0..<120)
        #expect(sink.frameCounts == [50, 50])
        let rest = try #require(segmenter.takeRemainder())
        #expect(rest.frameCount == 20)
        let (first, audio) = try parse(sink.payloads[0])
        #expect(first.firstFrameMs == 0 && first.frameCount == 50 && first.samplesPerFrame == 160 && first.codec == .pcm16)
        #expect(audio.count == 50 * 160 * 2)
        // Frame 3, sample 5 = 3 * 7 + 5, little-endian.
        let offset = (3 * 160 + 5) * 2
        #expect(Int(audio[offset]) | Int(audio[offset + 1]) << 8 == 26)
        #expect(try parse(sink.payloads[1]).0.firstFrameMs == 1000)
        let last = try rest.payload.withUnsafeBytes { _ in try SegmentPayload(parsing: rest.payload) }
        #expect(last.firstFrameMs == 2000 && last.frameCount == 20)
    }

    @Test func g711SegmentsHoldTheEncodedBytes() throws {
        for codec in [StorageCodec.g711u, .g711a] {
            let segmenter = try Segmenter(codec: codec, sampleRate: .hz8000, framesPerSegment: 2)
            let sink = CollectingSink()
            try feed(segmenter, sink, frames: 0..<2)
            let (payload, audio) = try parse(sink.payloads[0])
            #expect(payload.codec == codec && audio.count == 320)
            let sample = Int16(1 * 7 + 9)
            let expected = codec == .g711u ? G711.linearToMuLaw(sample) : G711.linearToALaw(sample)
            #expect(audio[160 + 9] == expected)
        }
    }

    @Test func shortGapsAreFilledWithCountedSilenceAndLongGapsStartANewSegment() throws {
        let segmenter = try Segmenter(codec: .pcm16, sampleRate: .hz8000, framesPerSegment: 50, maxFillFrames: 5)
        let sink = CollectingSink()
        try feed(segmenter, sink, frames: [0, 1, 2, 6, 7])  // frames 3, 4, 5 missing: filled
        #expect(segmenter.filledFrames == 3)
        try feed(segmenter, sink, frames: [100, 101])  // 92 frames missing (1.84 s): new segment
        #expect(sink.payloads.count == 1)
        let (cut, audio) = try parse(sink.payloads[0])
        #expect(cut.firstFrameMs == 0 && cut.frameCount == 8 && cut.filledFrameCount == 3)
        #expect(audio[(3 * 160) * 2..<(6 * 160) * 2].allSatisfy { $0 == 0 }, "filled frames are silence")
        let rest = try #require(segmenter.takeRemainder())
        let next = try SegmentPayload(parsing: rest.payload)
        #expect(next.firstFrameMs == 2000 && next.frameCount == 2)
    }

    @Test func lateFramesAreDroppedAndCounted() throws {
        let segmenter = try Segmenter(codec: .pcm16, sampleRate: .hz8000)
        let sink = CollectingSink()
        try feed(segmenter, sink, frames: [0, 1, 2, 1, 3])
        #expect(segmenter.lateFrames == 1)
        #expect(try #require(segmenter.takeRemainder()).frameCount == 4)
    }

    @Test func badInputIsRefusedClearly() throws {
        #expect(throws: RecorderError.self) { try Segmenter(codec: .native, sampleRate: .hz8000) }
        #expect(throws: RecorderError.self) { try Segmenter(codec: .pcm16, sampleRate: .hz8000, framesPerSegment: 0) }
        let segmenter = try Segmenter(codec: .pcm16, sampleRate: .hz16000)
        #expect(throws: RecorderError.self) { try feed(segmenter, CollectingSink(), frames: 0..<1, rate: .hz8000) }
        var garbage: [UInt8] = [9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(throws: RecorderError.self) { try garbage.withUnsafeBytes { try SegmentPayload(parsing: $0) } }
        garbage[0] = 1
        garbage[2] = 1  // one frame claimed, no audio
        garbage[7] = 160
        #expect(throws: RecorderError.self) { try garbage.withUnsafeBytes { try SegmentPayload(parsing: $0) } }
    }
}
