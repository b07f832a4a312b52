public import CallVaultArchive
import CallVaultModel
public import CallVaultRedaction
public import CallVaultStore
import Foundation
public import Logging

/// Redacts one call that is already stored: `callvault redact --call ID`, for a call transcribed before its
/// tenant switched redaction on, or after a detector upgrade. The newest transcript is read, the detector
/// runs over it again (placeholders already in it are not numbers, so nothing is found twice), and when it
/// finds more the transcript is re-sealed with the new placeholders (its old file shredded, its expiry
/// kept); then every span of the manifest is silenced in the recorded voice (``RecordingRedactor``).
public struct CallRedaction: Sendable {
    public let catalog: any CatalogStore
    public let keyStore: KeyStore
    public let files: SealedFiles
    public let logger: Logger
    public let actor: String

    public init(catalog: any CatalogStore, keyStore: KeyStore, files: SealedFiles, logger: Logger, actor: String) {
        self.catalog = catalog
        self.keyStore = keyStore
        self.files = files
        self.logger = logger
        self.actor = actor
    }

    /// What it did: the transcript (kept, or re-sealed with more spans) and the audio.
    public struct Report: Sendable, Equatable, Codable {
        public var callID: String
        /// The transcript read.
        public var transcript: String
        /// The re-sealed transcript, when the detector found more (nil: kept as it was).
        public var resealedTranscript: String?
        /// Spans found now that the transcript did not have yet.
        public var newSpans: Int
        /// Spans in the transcript's manifest, all silenced in the audio.
        public var spans: Int
        public var audio: RecordingRedactor.Report
    }

    /// Redacts the call with these categories (the tenant's policy unless the caller chose).
    public func redact(callID: String, categories: Set<RedactionCategory>) async throws(RetentionError) -> Report {
        guard !categories.isEmpty else {
            throw RetentionError(
                .invalidArgument,
                "no redaction categories: the call's tenant redacts nothing; set `tenant set ID --redact pci,…` or pass --redact")
        }
        let record: TranscriptRecord
        do {
            let rows = try await catalog.transcripts(callID: callID).filter { $0.state == .complete }
            guard let newest = rows.max(by: { $0.createdAt < $1.createdAt }) else {
                throw RetentionError(
                    .notFound, "call \(callID) has no transcript yet; it is redacted when it is transcribed")
            }
            record = newest
        } catch let error as RetentionError {
            throw error
        } catch {
            throw RetentionError(.catalogFailed, "cannot list the transcripts of call \(callID): \(error)")
        }
        let store = TranscriptStore(
            catalog: catalog, keyStore: keyStore, dataDirectory: files.dataDirectory, objects: files.objects)
        var transcript: Transcript
        do { transcript = try await store.open(id: record.id, actor: actor, purpose: "redaction").transcript } catch {
            throw RetentionError(
                error.code == .restricted ? .invalidState : .catalogFailed, "transcript \(record.id): \(error.message)")
        }
        let previous = transcript.redactions
        let found = TranscriptRedaction.redact(transcript.segments, categories: categories)
        var merged = found.redactions
        if let previous {
            merged = TranscriptRedactions(
                detectorVersion: found.redactions.detectorVersion,
                categories: categories.union(previous.categories),
                spans: (previous.spans + found.redactions.spans).sorted {
                    ($0.startMs, $0.track, $0.endMs) < ($1.startMs, $1.track, $1.endMs)
                })
        }
        var report = Report(
            callID: callID, transcript: record.id, resealedTranscript: nil, newSpans: found.redactions.spans.count,
            spans: merged.spans.count, audio: .init(callID: callID))
        let categoriesAdded = !categories.isSubset(of: Set(previous?.categories ?? []))
        if !found.redactions.spans.isEmpty || categoriesAdded {
            transcript.segments = found.segments
            transcript.redactions = merged
            let sealed: TranscriptRecord
            do { sealed = try await store.seal(transcript, tenantID: record.tenantId, actor: actor, now: record.createdAt) } catch {
                throw RetentionError(.catalogFailed, "cannot re-seal the transcript of call \(callID): \(error.message)")
            }
            let shredder = Shredder(
                catalog: catalog, keyStore: keyStore, dataDirectory: files.dataDirectory, objects: files.objects,
                logger: logger, actor: actor, reason: .erased, auditReason: "redacted")
            let outcome = try await shredder.shred([SealedItem(record)][...], at: Date())
            if let failure = outcome.failures.first {
                throw RetentionError(.fileDeletionFailed, "transcript \(record.id) was not shredded: \(failure.reason)")
            }
            report.resealedTranscript = sealed.id
        }
        let redactor = RecordingRedactor(catalog: catalog, keyStore: keyStore, files: files, logger: logger, actor: actor)
        report.audio = try await redactor.redact(
            callID: callID, requests: merged.spans.map(AudioRedactionPlan.Request.init),
            detectorVersion: merged.detectorVersion)
        return report
    }
}
