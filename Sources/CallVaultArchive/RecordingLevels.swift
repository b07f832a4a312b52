public import CallVaultModel
import Foundation

/// A recording's audio level per fixed bucket of the call's timeline, and where each of its sealed
/// segments starts: what a picture of the call may show without handing anyone the audio.
///
/// A bucket is 100 ms or longer, so it says how loud a track was, never what was said. Made by
/// ``RecordingExporter/levels(recordingID:tenantID:bucketMs:bucketCount:)``, which keeps only these
/// accumulators while it streams the segments.
public struct RecordingLevels: Sendable, Equatable {
    /// The level of one bucket: RMS and peak of its samples in dBFS (a full-scale sine is −3 dBFS RMS);
    /// ``floorDBFS`` for digital silence; no samples at all where nothing was recorded.
    public struct Bucket: Sendable, Equatable {
        public let sampleCount: Int
        public let rmsDBFS: Double
        public let peakDBFS: Double

        /// Whether any audio of the recording falls in this bucket.
        public var hasAudio: Bool { sampleCount > 0 }
    }

    /// One sealed segment: its first frame's place on the call's timeline and the audio it holds.
    public struct Segment: Sendable, Equatable {
        /// The segment's index in the sealed file (0 first).
        public let index: Int
        public let startMs: Int64
        public let durationMs: Int64
    }

    /// The lowest level reported: digital silence (an RMS of zero) is shown as this, not −∞.
    public static let floorDBFS = -96.0

    public let recordingID: String
    public let track: RecordingTrack
    /// Milliseconds of the call's timeline per bucket; bucket `i` starts at `i * bucketMs`.
    public let bucketMs: Int64
    /// The buckets, from the call's start; audio past the last one is counted in the last one.
    public let buckets: [Bucket]
    /// Segments that carry audio, in file order (the empty `last` marker of a call that ended on a
    /// segment boundary is not one).
    public let segments: [Segment]
    /// Whether the recording ended with its `last` segment (false for an interrupted one).
    public let isComplete: Bool

    public init(
        recordingID: String, track: RecordingTrack, bucketMs: Int64, buckets: [Bucket], segments: [Segment],
        isComplete: Bool
    ) {
        self.recordingID = recordingID
        self.track = track
        self.bucketMs = bucketMs
        self.buckets = buckets
        self.segments = segments
        self.isComplete = isComplete
    }

    /// dBFS of an amplitude ratio (1 = full scale), floored at ``floorDBFS``.
    static func dBFS(_ ratio: Double) -> Double {
        ratio > 0 ? max(floorDBFS, 20 * log10(ratio)) : floorDBFS
    }

    /// The per-bucket sums a computation keeps while segments stream past: nothing else of the audio.
    struct Accumulator {
        let samplesPerBucket: Int
        private var squares: [Int64]
        private var counts: [Int]
        private var peaks: [Int]
        /// The next sample's place on the timeline, in samples from the call's start.
        private(set) var position = 0

        init(samplesPerBucket: Int, bucketCount: Int) {
            self.samplesPerBucket = samplesPerBucket
            squares = Array(repeating: 0, count: bucketCount)
            counts = Array(repeating: 0, count: bucketCount)
            peaks = Array(repeating: 0, count: bucketCount)
        }

        /// Moves to `sample` on the timeline if it is later (audio withheld between segments is a gap),
        /// as export places segments.
        mutating func seek(toSample sample: Int) { position = max(position, sample) }

        /// Counts `samples` from the current position on.
        mutating func add(_ samples: UnsafeBufferPointer<Int16>) {
            var offset = 0
            let last = squares.count - 1
            while offset < samples.count {
                let bucket = min(position / samplesPerBucket, last)
                let room = bucket == last ? samples.count - offset : (bucket + 1) * samplesPerBucket - position
                let n = min(room, samples.count - offset)
                var sum: Int64 = 0
                var peak = peaks[bucket]
                for i in offset..<(offset + n) {
                    let value = Int(samples[i])
                    sum &+= Int64(value * value)
                    peak = max(peak, abs(value))
                }
                squares[bucket] &+= sum
                counts[bucket] += n
                peaks[bucket] = peak
                offset += n
                position += n
            }
        }

        var buckets: [Bucket] {
            (0..<squares.count).map { i in
                guard counts[i] > 0 else { return Bucket(sampleCount: 0, rmsDBFS: floorDBFS, peakDBFS: floorDBFS) }
                let rms = (Double(squares[i]) / Double(counts[i])).squareRoot() / 32768
                return Bucket(sampleCount: counts[i], rmsDBFS: dBFS(rms), peakDBFS: dBFS(Double(peaks[i]) / 32768))
            }
        }
    }
}
