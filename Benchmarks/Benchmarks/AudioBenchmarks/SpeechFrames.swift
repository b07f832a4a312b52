import CallVaultAudio
import Foundation

/// Real speech for the benchmarks: the committed disclosure sample (espeak-ng, 8 kHz μ-law),
/// so codecs work on the kind of signal a call carries, not on a tone they find easy.
///
/// Made once during a benchmark's set-up (it allocates); the measured loops only read it.
final class SpeechFrames {
    let sampleRate: SampleRate
    /// `count` consecutive 20 ms frames, back to back.
    let samples: UnsafeMutableBufferPointer<Int16>
    let count: Int

    init(sampleRate: SampleRate, frames: Int = 150) {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
                "samples/disclosure.ulaw.wav"
            ).path
        var speech = (try? AudioFileReader(path: path).readAllMono()) ?? []
        if speech.isEmpty {
            // Without the sample (a trimmed checkout) fall back to a swept tone, and say so.
            FileHandle.standardError.write(Data("AudioBenchmarks: \(path) not readable; using a swept tone\n".utf8))
            speech = (0..<(8000 * 4)).map { i in
                let t = Double(i) / 8000
                return Int16(6000 * sin(2 * .pi * (300 + 400 * t) * t))
            }
        }
        if sampleRate != .hz8000 { speech = Resampler.resample(speech, from: .hz8000, to: sampleRate) }
        let n = sampleRate.samplesPerFrame
        // Skip the leading silence: start half a second in.
        let start = min(sampleRate.rawValue / 2, max(0, speech.count - frames * n))
        count = min(frames, (speech.count - start) / n)
        self.sampleRate = sampleRate
        samples = .allocate(capacity: count * n)
        _ = samples.initialize(from: speech[start..<(start + count * n)])
    }

    deinit { samples.deallocate() }

    /// Frame `index` (wrapping around), without copying.
    @inline(__always)
    func frame(_ index: Int) -> UnsafeBufferPointer<Int16> {
        let n = sampleRate.samplesPerFrame
        let start = (index % count) * n
        return UnsafeBufferPointer(rebasing: samples[start..<(start + n)])
    }
}
