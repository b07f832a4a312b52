import CallVaultCrypto
public import CallVaultModel
public import CallVaultStore
public import Foundation
public import CallVaultObjects
import Logging

/// Seals transcripts into `.cvr` files (kind `transcript`, JSON) and opens them again, audited.
///
/// Each transcript gets its own data key wrapped under a transcript day key of its expiry day, so the
/// sweeper destroys transcripts on their own retention, independently of the voice they came from.
///
/// It takes the catalog as ``CatalogStore`` (the embedded SQLite file or a shared database); the calls
/// that reach it are async.
public struct TranscriptStore: Sendable {
    public let catalog: any CatalogStore
    public let keyStore: KeyStore
    public let dataDirectory: DataDirectory
    /// The object store sealed transcripts are uploaded to right after they are recorded (nil: they stay
    /// in the directory). An upload that fails leaves the spool copy for the next reconciler pass.
    public let objects: (any ObjectStore)?

    /// Plaintext bytes per sealed segment.
    static let segmentByteCount = 64 * 1024

    public init(
        catalog: any CatalogStore, keyStore: KeyStore, dataDirectory: DataDirectory, objects: (any ObjectStore)? = nil
    ) {
        self.catalog = catalog
        self.keyStore = keyStore
        self.dataDirectory = dataDirectory
        self.objects = objects
    }

    var files: SealedFiles { SealedFiles(dataDirectory: dataDirectory, objects: objects) }

    /// Seals `transcript` for `tenantID`, then records the row (audited `transcript.created`).
    ///
    /// Order matters for crashes: key, then the synced file, then the row. A crash before the row leaves
    /// an orphan file under a key that expires with its day key; never a row pointing at nothing.
    public func seal(_ transcript: Transcript, tenantID: String, actor: String, now: Date = Date())
        async throws(TranscriptionError) -> TranscriptRecord
    {
        let id = UUID().uuidString.lowercased()
        let day = CalendarDay(secondsSince1970: Int64(now.timeIntervalSince1970.rounded(.down)))
        let relative = "transcripts/\(tenantID)/\(day)/\(id).cvr"
        let json: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            json = try encoder.encode(transcript)
        } catch {
            throw TranscriptionError(.storeFailed, "the transcript of call \(transcript.callId) cannot be encoded")
        }
        let expiresAt: Date
        let key: (keyID: String, key: SecretKey)
        do {
            expiresAt = try await catalog.transcriptExpiry(tenantID: tenantID, createdAt: now)
        } catch {
            throw TranscriptionError(.storeFailed, "cannot read tenant \(tenantID)'s transcript retention: \(error.message)")
        }
        do {
            let expiresOn = CalendarDay(secondsSince1970: Int64(expiresAt.timeIntervalSince1970.rounded(.down)))
            key = try keyStore.newDataKey(tenantID: tenantID, ownerID: id, kind: .transcript, expiresOn: expiresOn)
            try dataDirectory.makeTranscriptDirectory(tenantID: tenantID, day: day)
        } catch {
            throw TranscriptionError(.storeFailed, "cannot prepare transcript \(id): \(error.message)")
        }
        let metadata = SealedFileMetadata(
            kind: .transcript, tenantID: tenantID, recordingID: id, keyID: key.keyID, codec: .json, sampleRate: 0,
            channels: 1, frameDurationMs: 0, createdAtMs: Int64((now.timeIntervalSince1970 * 1000).rounded(.down)))
        do throws(SealedFileError) {
            let writer = try SealedFileWriter(
                path: dataDirectory.resolve(relative), dataKey: key.key, metadata: metadata,
                maxSegmentByteCount: Self.segmentByteCount)
            let bytes = [UInt8](json)
            var offset = 0
            repeat {
                let end = min(bytes.count, offset + Self.segmentByteCount)
                let chunk = Array(bytes[offset..<end])
                // One segment per chunk; `last` on the final one so a cut file is detected.
                let sealed: Result<Void, SealedFileError> = chunk.withUnsafeBytes { buffer in
                    Result { () throws(SealedFileError) in try writer.append(buffer, last: end == bytes.count) }
                }
                try sealed.get()
                offset = end
            } while offset < bytes.count
            try writer.close()
        } catch {
            throw TranscriptionError(.storeFailed, "cannot seal transcript \(id): \(error.message)")
        }
        let record = TranscriptRecord(
            id: id, callId: transcript.callId, tenantId: tenantID, engine: transcript.engine, path: relative,
            createdAt: now, expiresAt: expiresAt, storage: files.newFileStorage)
        do { try await catalog.insertTranscript(record, actor: actor, details: Self.auditDetails(of: transcript)) } catch {
            throw TranscriptionError(.storeFailed, "transcript \(id) is sealed but the catalog failed: \(error.message)")
        }
        if let redactions = transcript.redactions { TranscriptRedactionMetrics.record(redactions) }
        // Into the object store now: a worker may be a machine no reconciler runs on. A failure leaves
        // the row `spooled` with its spool copy, which `callvault objects reconcile` (or serve) uploads.
        if let uploader = SealedFileUploader(catalog: catalog, files: files, logger: Logger(label: "callvault.transcripts")) {
            let spooled = SpooledFile(kind: .transcript, id: id, tenantID: tenantID, path: relative, storage: .spooled)
            if (try? await uploader.upload(spooled)) != nil {
                return (try? await catalog.transcript(id: id, tenantID: nil)) ?? record
            }
        }
        return record
    }

    /// What `transcript.created` says of a transcript beyond its call and engine: for a redacted one, the
    /// categories asked for and the spans per kind (counts, never values).
    static func auditDetails(of transcript: Transcript) -> [String: String] {
        guard let redactions = transcript.redactions else { return [:] }
        return [
            "redactCategories": redactions.categories.map(\.policyName).joined(separator: ","),
            "redactions": redactions.countsText,
            "redactionDetector": redactions.detectorVersion,
        ]
    }

    /// Decrypts one transcript in memory. The decryption is audited (`transcript.decrypted`) before
    /// any key is unwrapped: if the audit entry cannot be written, nothing is decrypted.
    ///
    /// A transcript is made from its call's recordings, so while one of them is restricted (GDPR
    /// Art. 18) it is refused (`restricted`) like the recording itself, unless `restrictionOverride`
    /// is given, which is audited `recording.restriction_overridden` in the same transaction.
    /// - Parameters:
    ///   - tenantID: when given, another tenant's transcript is reported as not found.
    ///   - auditDetails: more details for the audit entries (ids only, such as a subject export's id).
    public func open(
        id: String, tenantID: String? = nil, actor: String, purpose: String = "show",
        restrictionOverride: RestrictionOverride? = nil, auditDetails: [String: String] = [:]
    ) async throws(TranscriptionError) -> (record: TranscriptRecord, transcript: Transcript) {
        let record: TranscriptRecord
        do { record = try await catalog.transcript(id: id, tenantID: tenantID) } catch {
            throw TranscriptionError(error.code == .notFound ? .notFound : .storeFailed, error.message)
        }
        guard record.state != .shredded else {
            throw TranscriptionError(.shredded, "transcript \(id) was shredded; it cannot be read by anyone")
        }
        do {
            _ = try await catalog.auditTranscriptDecryption(
                transcriptID: record.id, tenantID: nil, actor: actor, purpose: purpose, details: auditDetails,
                restrictionOverride: restrictionOverride, at: Date())
        } catch {
            switch error.code {
            case .restricted:
                throw TranscriptionError(
                    .restricted,
                    "\(error.message); give a reason to override it (audited; `--override-reason` on the CLI) "
                        + "or lift the restriction (`callvault recordings restrict ID --lift --reason TEXT`)")
            case .invalidArgument: throw TranscriptionError(.storeFailed, "transcript \(id): \(error.message)")
            default:
                throw TranscriptionError(
                    .storeFailed, "the decryption could not be audited, so it was not done: \(error.message)")
            }
        }
        let key: SecretKey
        do { key = try keyStore.dataKey(ownerID: record.id, tenantID: record.tenantId) } catch {
            throw TranscriptionError(
                error.code == .dataKeyShredded ? .shredded : .storeFailed, "transcript \(id): \(error.message)")
        }
        let files = self.files
        let found: [SealedFiles.Part]
        do { found = try await files.parts(path: record.path, storage: record.storage) } catch {
            throw TranscriptionError(.storeFailed, "transcript \(id): \(error.message)")
        }
        guard let part = found.first else {
            throw TranscriptionError(.storeFailed, "transcript \(id) has no file at \(record.path)")
        }
        let source = files.source(part)
        let plaintext: [UInt8]
        do {
            plaintext = try await SealedFiles.reading([part]) { () throws(SealedFileError) -> [UInt8] in
                let reader = try SealedFileReader(
                    source: try source.open(), name: source.name, dataKey: key, expectedTenantID: record.tenantId,
                    expectedRecordingID: record.id)
                return try reader.readAll()
            }
        } catch {
            throw TranscriptionError(.storeFailed, "transcript \(id) does not verify: \(error.message)")
        }
        do {
            return (record, try JSONDecoder().decode(Transcript.self, from: Data(plaintext)))
        } catch {
            throw TranscriptionError(.storeFailed, "transcript \(id) decrypted but is not a version-1 transcript")
        }
    }
}
