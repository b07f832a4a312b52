import CallVaultAudio
import CallVaultCrypto
public import CallVaultModel
import CallVaultStore

extension RecordingExporter {
    /// Opens a recording for reading piece by piece (streamed, seekable playback): the same door as
    /// ``export(recordingID:tenantID:actor:purpose:restrictionOverride:auditDetails:onTimeline:)`` —
    /// restriction check and audit entries before the key is unwrapped — then one pass over every
    /// segment, verifying each and noting where it lies, holding one segment at a time. Nothing is
    /// decoded and no audio is kept; the ``IndexedRecording`` holds the data key, so whoever holds it
    /// may read the audio (as whoever holds an ``ExportedRecording`` has it).
    public func openIndexed(
        recordingID: String,
        tenantID: String? = nil,
        actor: String,
        purpose: String,
        restrictionOverride: RestrictionOverride? = nil,
        auditDetails: [String: String] = [:],
        onTimeline: Bool = true
    ) async throws(RecorderError) -> IndexedRecording {
        let (recording, files, parts, audit, key) = try await unlock(
            recordingID: recordingID,
            tenantID: tenantID,
            actor: actor,
            purpose: purpose,
            restrictionOverride: restrictionOverride,
            auditDetails: auditDetails
        )
        let sources = parts.map(files.source)
        let format = payloadFormat
        let (segments, end) = try await SealedFiles.reading(parts) {
            () throws(RecorderError) -> ([IndexedRecording.Segment], Int) in
            try Self.index(sources, key: key, recording: recording, payloadFormat: format, onTimeline: onTimeline)
        }
        return IndexedRecording(
            recording: recording,
            sampleCount: end,
            largestSegmentSampleCount: segments.map(\.count).max() ?? 0,
            auditSeq: audit.decrypted.seq,
            restrictionOverridden: !audit.restrictionOverrides.isEmpty,
            segments: segments,
            parts: parts,
            sources: sources,
            key: key,
            payloadFormat: format
        )
    }

    /// Every verified segment's place: the placement ``decode(_:key:recording:onTimeline:)`` gives it,
    /// and its sample count from its payload's length (Opus: packets × samples per frame).
    static func index(
        _ parts: [SealedPartSource],
        key: SecretKey,
        recording: RecordingRecord,
        payloadFormat: SegmentPayloadFormat,
        onTimeline: Bool
    ) throws(RecorderError) -> ([IndexedRecording.Segment], Int) {
        var segments: [IndexedRecording.Segment] = []
        var end = 0
        var payloadError: RecorderError?
        do throws(SealedFileError) {
            let reader = try SealedRecordingReader(parts: parts, key: key, recording: recording)
            while let segment = try reader.next() {
                do throws(RecorderError) {
                    var start = end
                    if onTimeline && !segment.plaintext.isEmpty {
                        let payload = try SegmentPayload(parsing: segment.plaintext)
                        start = max(end, Int(payload.firstFrameMs) * recording.sampleRate / 1000)
                    }
                    let audio = try payloadFormat.audioBytes(segment.plaintext)
                    let count = try SegmentPayloadFormat.sampleCount(
                        in: audio, codec: recording.codec, sampleRate: recording.sampleRate)
                    if count > 0 {
                        let place = reader.lastSegmentPlace
                        segments.append(
                            IndexedRecording.Segment(
                                part: place.part,
                                offset: place.offset,
                                index: UInt64(segment.index),
                                start: start,
                                count: count
                            )
                        )
                    }
                    end = start + count
                } catch {
                    payloadError = error
                    break
                }
            }
        } catch {
            throw RecorderError(.sealedFileFailed, "recording \(recording.id) does not verify: \(error.message)")
        }
        if let payloadError { throw payloadError }
        return (segments, end)
    }
}
