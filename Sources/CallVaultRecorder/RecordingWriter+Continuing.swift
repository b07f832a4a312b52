import CallVaultCrypto
public import CallVaultStore
public import Foundation

extension RecordingWriter {
    /// Continues a recording that a crashed process left in state `recording`, in a NEW part file.
    ///
    /// Nothing already written is touched: the earlier parts are read back (every segment
    /// authenticated, a torn last write ignored — the reader tolerates it in a non-final part, and
    /// the new part's authenticated first index proves no complete segment was lost), and the new
    /// part `<id>.part<k>.cvr` starts at the index after the last complete segment. Use it instead
    /// of start-up recovery for a recording the same call goes on with (recovery would mark it
    /// `interrupted`).
    /// - Parameter payloadFormat: to count the earlier parts' duration from their payloads.
    public convenience init(
        continuing recordingID: String,
        catalog: Catalog,
        keyStore: KeyStore,
        dataDirectory: DataDirectory,
        payloadFormat: SegmentPayloadFormat = .rawCodec,
        maxSegmentByteCount: Int = 64 * 1024,
        flushGroup: FlushGroup? = nil,
        transcriptionEngine: String = RecordingWriter.defaultTranscriptionEngine,
        now: Date = Date()
    ) throws(RecorderError) {
        let recording: RecordingRecord
        do { recording = try catalog.recording(id: recordingID) } catch {
            throw RecorderError(.catalogFailed, "cannot continue recording \(recordingID): \(error.message)")
        }
        guard recording.state == .recording else {
            throw RecorderError(
                .invalidArgument,
                "recording \(recordingID) is \(recording.state.rawValue); only one still `recording` continues"
            )
        }
        guard let sealedCodec = Self.sealedCodec(recording.codec) else {
            throw RecorderError(.invalidArgument, "recording \(recordingID) has no concrete codec")
        }
        let key: (keyID: String, key: SecretKey)
        do { key = try keyStore.dataKeyWithID(ownerID: recordingID, tenantID: recording.tenantId) } catch {
            throw RecorderError(
                error.code == .dataKeyShredded ? .shredded : .keyStoreFailed,
                "cannot continue recording \(recordingID): \(error.message)"
            )
        }
        let firstPart = RecordingFiles.resolve(recording.path, in: dataDirectory)
        let parts = RecordingFiles.existingParts(firstPart: firstPart)
        var nextIndex: UInt32 = 0
        var samples = 0
        var segments = 0
        var frameDurationMs: UInt16 = 20
        if !parts.isEmpty {
            do throws(SealedFileError) {
                let reader = try SealedRecordingReader(
                    partPaths: parts,
                    dataKey: key.key,
                    expectedTenantID: recording.tenantId,
                    expectedRecordingID: recordingID,
                    allowIncomplete: true
                )
                while let segment = try reader.next() {
                    guard !segment.isLast else {
                        throw SealedFileError(.trailingData, "the recording already ended with its last segment")
                    }
                    segments += 1
                    nextIndex = segment.index + 1
                    if let audio = try? payloadFormat.audioBytes(segment.plaintext) {
                        samples += SegmentPayloadFormat.sampleCount(byteCount: audio.count, codec: recording.codec) ?? 0
                    }
                }
                if let header = reader.firstHeader { frameDurationMs = header.metadata.frameDurationMs }
            } catch {
                throw RecorderError(.sealedFileFailed, "cannot continue recording \(recordingID): \(error.message)")
            }
        }
        let priorBytes = parts.reduce(Int64(0)) { $0 + RecordingFiles.size(of: $1) }
        let metadata = SealedFileMetadata(
            kind: .voice,
            tenantID: recording.tenantId,
            recordingID: recordingID,
            keyID: key.keyID,
            codec: sealedCodec,
            sampleRate: UInt32(recording.sampleRate),
            channels: 1,
            frameDurationMs: frameDurationMs,
            createdAtMs: Int64((now.timeIntervalSince1970 * 1000).rounded(.down)),
            partNumber: UInt32(parts.count),
            firstSegmentIndex: nextIndex
        )
        try self.init(
            recording: recording,
            catalog: catalog,
            dataKey: key.key,
            path: RecordingFiles.partPath(firstPart: firstPart, part: parts.count),
            metadata: metadata,
            maxSegmentByteCount: maxSegmentByteCount,
            priorBytes: priorBytes,
            durationMs: Int64(samples) * 1000 / Int64(max(recording.sampleRate, 1)),
            segmentCount: segments,
            flushGroup: flushGroup,
            transcriptionEngine: transcriptionEngine,
            abandonsRowOnFailure: false
        )
    }
}
