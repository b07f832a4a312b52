public import CallVaultCrypto
public import CallVaultModel

extension SealedRecordingReader {
    /// Reads `recording`'s parts checked against its own tenant and id; an interrupted (not `complete`)
    /// recording is read up to its last verified segment. What every reader of a catalogued recording asks.
    public convenience init(parts: [SealedPartSource], key: SecretKey, recording: RecordingRecord) throws(SealedFileError) {
        try self.init(
            parts: parts, dataKey: key, expectedTenantID: recording.tenantId, expectedRecordingID: recording.id,
            allowIncomplete: recording.state != .complete)
    }
}
