import CallVaultAudio
import CallVaultCrypto
public import CallVaultModel

/// A recording opened through ``RecordingExporter``'s door (audited, restriction checked, then the key
/// unwrapped) and read once to note where each segment lies on the timeline and in its part file, so
/// that its audio can then be read a piece at a time, anywhere, in bounded memory: what streamed and
/// seekable playback needs. The index holds positions and lengths only, never audio.
///
/// Samples are those ``RecordingExporter/export(recordingID:tenantID:actor:purpose:restrictionOverride:auditDetails:onTimeline:)``
/// gives, sample for sample: the same placement of segments (a segment starts at its first frame's
/// time, or where the previous one ended if that is later) and the same decoding.
public struct IndexedRecording: Sendable {
    /// Where one segment with audio is: its place in the files and on the timeline.
    struct Segment: Sendable {
        var part: Int
        var offset: Int
        var index: UInt64
        /// First sample on the timeline (after earlier segments' samples).
        var start: Int
        var count: Int
        var end: Int { start + count }
    }

    /// The catalog row (state, codec, call, tenant).
    public let recording: RecordingRecord
    /// Samples per second.
    public var sampleRate: Int { recording.sampleRate }
    /// Mono samples from the start of the timeline to the end of the last segment: what an export has.
    public let sampleCount: Int
    /// Segments with audio.
    public var segmentCount: Int { segments.count }
    /// The largest segment's samples: what a ``Cursor`` holds at most.
    public let largestSegmentSampleCount: Int
    /// The audit entry of the decryption.
    public let auditSeq: Int64
    /// Whether the recording was restricted and opened by an audited ``RestrictionOverride``.
    public let restrictionOverridden: Bool

    let segments: [Segment]
    let parts: [SealedFiles.Part]
    let sources: [SealedPartSource]
    let key: SecretKey
    let payloadFormat: SegmentPayloadFormat

    /// Runs reads of `recordings`' cursors where they may block: inline for files on this node, on
    /// ``ObjectReading``'s threads when a part is an object (``SealedFiles/reading(_:_:)``).
    public static func reading<T: Sendable>(
        _ recordings: [IndexedRecording],
        _ body: @escaping @Sendable () throws(RecorderError) -> T
    ) async throws(RecorderError) -> T {
        try await SealedFiles.reading(recordings.flatMap(\.parts), body)
    }

    /// A reader of this recording's samples (one per response: it holds an open part and one decoded
    /// segment).
    public func cursor() -> Cursor { Cursor(self) }

    /// Reads samples of an ``IndexedRecording`` by range, verifying each segment it decrypts. Forward
    /// reads reuse the open part; a read further back reopens it. Not thread-safe.
    public final class Cursor {
        let recording: IndexedRecording
        private var reader: SealedFileReader?
        private var readerPart = -1
        /// The segment (ordinal in the index) decoded last, and its samples.
        private var held: (segment: Int, samples: [Int16])?
        /// For Opus (its decoder carries state from packet to packet): the next segment the decoder expects.
        private var opus: OpusDecoder?
        private var opusNext = 0
        /// The most samples held at once (decoded segments), for tests of bounded memory.
        public private(set) var peakHeldSamples = 0

        init(_ recording: IndexedRecording) { self.recording = recording }

        /// The samples of `range` of the timeline: zeros where no segment has audio (and past the end).
        /// Throws, giving nothing of it, when a segment does not verify or decode.
        public func samples(_ range: Range<Int>) throws(RecorderError) -> [Int16] {
            var out = [Int16](repeating: 0, count: range.count)
            let segments = recording.segments
            var low = 0, high = segments.count
            while low < high {
                let middle = (low + high) / 2
                if segments[middle].end <= range.lowerBound { low = middle + 1 } else { high = middle }
            }
            var ordinal = low
            while ordinal < segments.count, segments[ordinal].start < range.upperBound {
                let segment = segments[ordinal]
                let samples = try decoded(ordinal)
                let from = max(segment.start, range.lowerBound), to = min(segment.end, range.upperBound)
                if from < to {
                    out.withUnsafeMutableBufferPointer { target in
                        samples.withUnsafeBufferPointer { source in
                            _ = UnsafeMutableBufferPointer(
                                rebasing: target[(from - range.lowerBound)..<(to - range.lowerBound)]
                            )
                            .update(fromContentsOf: source[(from - segment.start)..<(to - segment.start)])
                        }
                    }
                }
                ordinal += 1
            }
            return out
        }

        /// The decoded samples of segment `ordinal` (kept until another is decoded).
        private func decoded(_ ordinal: Int) throws(RecorderError) -> [Int16] {
            if let held, held.segment == ordinal { return held.samples }
            held = nil
            var samples: [Int16] = []
            if recording.recording.codec == .opus {
                if opus == nil || opusNext > ordinal {
                    guard let rate = SampleRate(rawValue: recording.sampleRate) else {
                        throw RecorderError(
                            .unsupportedCodec,
                            "an Opus recording at \(recording.sampleRate) Hz cannot be decoded"
                        )
                    }
                    do { opus = try OpusDecoder(sampleRate: rate) } catch {
                        throw RecorderError(.unsupportedCodec, "no Opus decoder: \(error.message)")
                    }
                    opusNext = 0
                }
                // The decoder's state runs from the first packet, so it is fed every segment before this one.
                while opusNext <= ordinal {
                    samples.removeAll(keepingCapacity: true)
                    try decode(opusNext, into: &samples)
                    opusNext += 1
                }
            } else {
                try decode(ordinal, into: &samples)
            }
            guard samples.count == recording.segments[ordinal].count else {
                throw RecorderError(
                    .sealedFileFailed,
                    "recording \(recording.recording.id) changed since it was opened"
                )
            }
            peakHeldSamples = max(peakHeldSamples, samples.count)
            held = (ordinal, samples)
            return samples
        }

        /// Reads, verifies and decodes segment `ordinal` onto the end of `samples`.
        private func decode(_ ordinal: Int, into samples: inout [Int16]) throws(RecorderError) {
            let segment = recording.segments[ordinal]
            let sealed: SealedSegment
            do throws(SealedFileError) {
                let reader = try reader(for: segment.part, at: segment.offset)
                try reader.seek(toSegment: segment.index, atOffset: segment.offset)
                guard let found = try reader.next() else {
                    throw SealedFileError(
                        .segmentMissing,
                        "segment \(segment.index) is gone",
                        segmentIndex: UInt32(truncatingIfNeeded: segment.index)
                    )
                }
                sealed = found
            } catch {
                reader = nil
                throw RecorderError(
                    .sealedFileFailed,
                    "recording \(recording.recording.id) does not verify: \(error.message)"
                )
            }
            let audio = try recording.payloadFormat.audioBytes(sealed.plaintext)
            if let opus {
                try RecordingExporter.decodeOpus(audio, with: opus, into: &samples)
            } else {
                try RecordingExporter.decode(audio, codec: recording.recording.codec, into: &samples)
            }
        }

        /// The open reader of `part` if it has not passed `offset`, else the part opened anew (its header
        /// authenticated again).
        private func reader(for part: Int, at offset: Int) throws(SealedFileError) -> SealedFileReader {
            if let reader, readerPart == part, reader.nextSegmentOffset <= offset { return reader }
            reader = nil
            let source = recording.sources[part]
            let opened = try SealedFileReader(
                source: source.open(),
                name: source.name,
                dataKey: recording.key,
                expectedTenantID: recording.recording.tenantId,
                expectedRecordingID: recording.recording.id,
                isFinalPart: part == recording.sources.count - 1,
                allowIncomplete: recording.recording.state != .complete
            )
            guard opened.header.metadata.partNumber == UInt32(part) else {
                throw SealedFileError(
                    .partOutOfOrder,
                    "the part's number changed since it was opened",
                    path: source.name
                )
            }
            (reader, readerPart) = (opened, part)
            return opened
        }
    }
}
