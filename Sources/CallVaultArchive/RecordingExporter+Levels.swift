import CallVaultAudio
import CallVaultCrypto
import CallVaultModel
import Foundation

extension RecordingExporter {
    /// A recording's level per bucket of the call's timeline and its segments' starts, for a picture
    /// of the call: the one way audio is decrypted here that hands out no audio.
    ///
    /// Segments are decrypted and decoded one at a time into a scratch buffer (wiped afterwards), and
    /// only ``RecordingLevels`` accumulators outlive them, so memory does not grow with the call's length;
    /// nothing is written anywhere. It is not audited as a decryption (`recording.decrypted` is for
    /// audio and transcripts someone receives; levels of 100 ms and more carry no words), but it keeps
    /// every other rule of this door: a shredded recording is refused (``RecorderError/Code/shredded``),
    /// and so is a restricted one — always, as no override is taken for a picture
    /// (``RecorderError/Code/restricted``). Segments are placed on the timeline by their payload's
    /// first-frame time (the ``Segmenter``'s payloads), as export does.
    /// - Parameters:
    ///   - tenantID: when given, a recording of another tenant is reported as not found.
    ///   - bucketMs: milliseconds per bucket (at least 1).
    ///   - bucketCount: buckets from the call's start (1 or more); audio past them counts in the last.
    public func levels(recordingID: String, tenantID: String?, bucketMs: Int64, bucketCount: Int)
        async throws(RecorderError) -> RecordingLevels
    {
        guard bucketMs >= 1, bucketCount >= 1 else {
            throw RecorderError(.invalidArgument, "levels need a bucket of 1 ms or more and at least one bucket")
        }
        let recording: RecordingRecord
        do { recording = try await catalog.recording(id: recordingID, tenantID: tenantID) } catch {
            throw RecorderError(.catalogFailed, error.message)
        }
        guard recording.state != .shredded else {
            throw RecorderError(.shredded, "recording \(recordingID) was shredded; its audio cannot be read by anyone")
        }
        guard !recording.restricted else {
            throw RecorderError(
                .restricted, "recording \(recordingID) is restricted (GDPR Art. 18): its levels are not computed")
        }
        guard recording.codec != .native, recording.sampleRate > 0 else {
            throw RecorderError(
                .unsupportedCodec, "recording \(recordingID) (\(recording.codec.rawValue), \(recording.sampleRate) Hz) cannot be measured")
        }
        let parts = try await decodableParts(of: recording)
        let files = SealedFiles(dataDirectory: dataDirectory, objects: objects)
        let key: SecretKey
        do { key = try keyStore.dataKey(ownerID: recording.id, tenantID: recording.tenantId) } catch {
            throw RecorderError(
                error.code == .dataKeyShredded ? .shredded : .keyStoreFailed, "recording \(recordingID): \(error.message)")
        }
        let sources = parts.map(files.source)
        return try await SealedFiles.reading(parts) { () throws(RecorderError) -> RecordingLevels in
            let meter = try LevelMeter(
                recording: recording, samplesPerBucket: Int(bucketMs) * recording.sampleRate / 1000, bucketCount: bucketCount)
            return try meter.measure(sources, key: key, bucketMs: bucketMs)
        }
    }
}

/// Streams one recording's segments through a ``RecordingLevels/Accumulator`` (synchronous: reading
/// may block on ranged GETs, so it runs through ``SealedFiles/reading(_:_:)``).
private final class LevelMeter {
    let recording: RecordingRecord
    var accumulator: RecordingLevels.Accumulator
    let opus: OpusDecoder?
    /// Decoded samples of the current segment only; wiped after the last one.
    var scratch: [Int16] = []

    init(recording: RecordingRecord, samplesPerBucket: Int, bucketCount: Int) throws(RecorderError) {
        self.recording = recording
        accumulator = RecordingLevels.Accumulator(samplesPerBucket: max(1, samplesPerBucket), bucketCount: bucketCount)
        if recording.codec == .opus, let rate = SampleRate(rawValue: recording.sampleRate) {
            do { opus = try OpusDecoder(sampleRate: rate) } catch {
                throw RecorderError(.unsupportedCodec, "no Opus decoder: \(error.message)")
            }
        } else {
            opus = nil
        }
    }

    func measure(_ parts: [SealedPartSource], key: SecretKey, bucketMs: Int64) throws(RecorderError) -> RecordingLevels {
        defer {
            for i in scratch.indices { scratch[i] = 0 }
        }
        var segments: [RecordingLevels.Segment] = []
        var ending: SealedFileEnding?
        var failure: RecorderError?
        do throws(SealedFileError) {
            let reader = try SealedRecordingReader(parts: parts, key: key, recording: recording)
            while let segment = try reader.next() {
                guard !segment.plaintext.isEmpty else { continue }
                do throws(RecorderError) {
                    segments.append(try take(segment))
                } catch {
                    failure = error
                    break
                }
            }
            ending = reader.ending
        } catch {
            throw RecorderError(.sealedFileFailed, "recording \(recording.id) does not verify: \(error.message)")
        }
        if let failure { throw failure }
        return RecordingLevels(
            recordingID: recording.id, track: recording.track, bucketMs: bucketMs, buckets: accumulator.buckets,
            segments: segments, isComplete: ending == .lastSegment)
    }

    /// Counts one segment's audio at its place on the timeline.
    private func take(_ segment: SealedSegment) throws(RecorderError) -> RecordingLevels.Segment {
        let payload = try SegmentPayload(parsing: segment.plaintext)
        let count = try decode(payload)
        accumulator.seek(toSample: Int(max(0, payload.firstFrameMs)) * recording.sampleRate / 1000)
        scratch.withUnsafeBufferPointer { accumulator.add(UnsafeBufferPointer(rebasing: $0[0..<count])) }
        return RecordingLevels.Segment(
            index: Int(segment.index), startMs: payload.firstFrameMs,
            durationMs: Int64(count) * 1000 / Int64(recording.sampleRate))
    }

    /// Decodes a payload's audio into `scratch`; returns how many samples it holds.
    private func decode(_ payload: SegmentPayload) throws(RecorderError) -> Int {
        let audio = payload.audio
        if let opus {
            let frame = opus.sampleRate.samplesPerFrame
            let packets = try SegmentPayload.opusPackets(in: audio)
            reserve(packets.count * frame)
            do throws(AudioError) {
                try scratch.withUnsafeMutableBufferPointer { all throws(AudioError) in
                    for (n, packet) in packets.enumerated() {
                        try opus.decode(
                            UnsafeRawBufferPointer(rebasing: audio[packet]),
                            into: UnsafeMutableBufferPointer(rebasing: all[(n * frame)..<((n + 1) * frame)]))
                    }
                }
            } catch {
                throw RecorderError(.sealedFileFailed, "an Opus packet does not decode: \(error.message)")
            }
            return packets.count * frame
        }
        let count = SegmentPayloadFormat.sampleCount(byteCount: audio.count, codec: recording.codec) ?? 0
        reserve(count)
        let codec = recording.codec
        try scratch.withUnsafeMutableBufferPointer { all throws(RecorderError) in
            try RecordingExporter.decode(audio, codec: codec, into: UnsafeMutableBufferPointer(rebasing: all[0..<count]))
        }
        return count
    }

    private func reserve(_ count: Int) {
        if scratch.count < count { scratch.append(contentsOf: repeatElement(0, count: count - scratch.count)) }
    }
}
