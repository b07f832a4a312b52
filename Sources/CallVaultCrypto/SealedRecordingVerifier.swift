/// Checks a whole recording without keeping its plaintext: `callvault verify`'s engine.
public enum SealedRecordingVerifier {
    /// What `verify` found.
    public struct Result: Sendable, Equatable {
        public let status: SealedRecordingStatus
        /// Segments that verified before the end or the first failure.
        public let segmentCount: Int
        /// Plaintext bytes in those segments.
        public let plaintextByteCount: Int
    }

    /// Reads every segment of every part (plaintext is discarded segment by segment).
    ///
    /// A crash leaves `truncated` (no `last` segment, or a torn final write, or a final part whose
    /// header was never completely written); everything else that fails is `tampered`.
    public static func verify(
        partPaths: [String], dataKey: SecretKey, expectedTenantID: String, expectedRecordingID: String
    ) -> Result {
        verify(
            parts: partPaths.map(SealedPartSource.file), dataKey: dataKey, expectedTenantID: expectedTenantID,
            expectedRecordingID: expectedRecordingID)
    }

    /// As ``verify(partPaths:dataKey:expectedTenantID:expectedRecordingID:)``, for parts from any
    /// source (objects read by ranged GETs); `missing` names the part as ``SealedPartSource/name``.
    public static func verify(
        parts: [SealedPartSource], dataKey: SecretKey, expectedTenantID: String, expectedRecordingID: String
    ) -> Result {
        let reader: SealedRecordingReader
        do throws(SealedFileError) {
            reader = try SealedRecordingReader(
                parts: parts, dataKey: dataKey, expectedTenantID: expectedTenantID,
                expectedRecordingID: expectedRecordingID, allowIncomplete: true)
        } catch {
            return Result(status: .tampered(error), segmentCount: 0, plaintextByteCount: 0)
        }
        do throws(SealedFileError) {
            while try reader.next() != nil {}
        } catch {
            let status: SealedRecordingStatus
            switch error.code {
            case .fileNotFound: status = .missing(path: error.path ?? "")
            case .truncatedHeader where error.path == parts.last?.name: status = .truncated
            default: status = .tampered(error)
            }
            return Result(status: status, segmentCount: reader.segmentCount, plaintextByteCount: reader.plaintextByteCount)
        }
        let status: SealedRecordingStatus = reader.ending == .lastSegment ? .ok : .truncated
        return Result(status: status, segmentCount: reader.segmentCount, plaintextByteCount: reader.plaintextByteCount)
    }
}
