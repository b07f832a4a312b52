import CallVaultModel
public import CallVaultStore
public import CallVaultObjects
public import Foundation
public import Logging

/// A data subject's right to erasure: every recording and transcript of one caller, crypto-erased now.
///
/// The caller is found through the tenant's keyed phone hash (the number itself is never stored,
/// logged or put in the audit log). Held recordings are kept — a legal hold outranks erasure — and
/// listed in the receipt. The receipt's confirmation code is written to the audit log, so an operator
/// can later prove the request was carried out (`callvault audit list`).
///
/// The catalog is any ``CatalogStore``; the key store stays the data directory's. Order, as the sweeper's:
/// data keys destroyed first, then files deleted, then the catalog marked shredded, then the audit entry;
/// an erasure stopped in the middle leaves keys gone and rows unmarked, which running it again (or, for
/// expired items, the sweeper) finishes.
public struct SubjectErasure: Sendable {
    public let catalog: any CatalogStore
    public let keyStore: KeyStore
    public let dataDirectory: DataDirectory
    let logger: Logger

    /// The object store the directory's sealed files are uploaded to; nil: all in the directory.
    public let objects: (any ObjectStore)?

    public init(
        catalog: any CatalogStore, keyStore: KeyStore, dataDirectory: DataDirectory, logger: Logger,
        objects: (any ObjectStore)? = nil
    ) {
        self.objects = objects
        self.catalog = catalog
        self.keyStore = keyStore
        self.dataDirectory = dataDirectory
        self.logger = logger
    }

    /// What an erasure did.
    public struct Receipt: Sendable, Codable, Equatable {
        /// Quote this to the data subject; `callvault audit list` shows it in the `subject.erased` entry.
        public var confirmationCode: String
        public var tenantID: String
        public var calls: [String] = []
        public var recordingsErased: [String] = []
        public var transcriptsErased: [String] = []
        /// Recordings kept because they are under legal hold.
        public var recordingsHeld: [String] = []
        public var failures: [SweepReport.Failure] = []
        /// Day keys replaced by a fresh generation (key provider only): the same days' other data keys
        /// were re-wrapped and the old provider keys destroyed, so no backup can open the erased keys.
        public var dayKeysRegenerated = 0
        /// Other recordings' and transcripts' data keys re-wrapped under the fresh day keys.
        public var dataKeysRewrapped = 0
        /// Old provider keys the provider has not destroyed yet (it failed): `callvault sweep` retries.
        public var providerKeysPending: [String] = []
        /// Whether no backup of the data directory can open what was erased. False on a `local` key
        /// provider (a backup with `keys.sqlite` and the root key opens it until the day key expires) and
        /// while provider keys are pending.
        public var backupProof = true
        public var at: Date
    }

    /// Erases every recording and transcript of the caller `phoneNumber` in tenant `tenantID`.
    public func erase(tenantID: String, phoneNumber: String, actor: String = "cli", at now: Date = Date())
        async throws(RetentionError) -> Receipt
    {
        let calls: [CallRecord]
        let recordings: [RecordingRecord]
        let transcripts: [TranscriptRecord]
        let keys: CallerKeys
        do { keys = try keyStore.callerKeys(tenantID: tenantID) } catch {
            throw RetentionError(
                error.code == .unknownTenant ? .invalidState : .keyStoreFailed, "tenant \(tenantID): \(error.message)")
        }
        do {
            calls = try await catalog.calls(tenantID: tenantID, callerNumber: phoneNumber, callerKeys: keys)
            recordings = try await catalog.recordings(inCalls: calls.map(\.id))
            transcripts = try await catalog.transcripts(inCalls: calls.map(\.id))
        } catch where error.code == .notFound {
            throw RetentionError(.invalidState, "\(error.message)")
        } catch {
            throw RetentionError(.catalogFailed, "cannot find the caller's calls: \(error.message)")
        }
        var receipt = Receipt(confirmationCode: Self.newCode(), tenantID: tenantID, at: now)
        receipt.calls = calls.map(\.id)
        receipt.recordingsHeld = recordings.filter { $0.hold && $0.state != .shredded }.map(\.id)
        let shredder = Shredder(
            catalog: catalog, keyStore: keyStore, dataDirectory: dataDirectory, objects: objects, logger: logger, actor: actor,
            reason: .erased)
        let liveRecordings = recordings.filter { !$0.hold && $0.state != .shredded }.map(SealedItem.init)
        let liveTranscripts = transcripts.filter { $0.state != .shredded }.map(SealedItem.init)
        for batch in [liveRecordings, liveTranscripts] where !batch.isEmpty {
            let outcome = try await shredder.shred(batch[...], at: now)
            if batch[0].kind == .recording {
                receipt.recordingsErased = outcome.shredded
            } else {
                receipt.transcriptsErased = outcome.shredded
            }
            receipt.failures += outcome.failures
            receipt.dayKeysRegenerated += outcome.keys.dayKeysRegenerated
            receipt.dataKeysRewrapped += outcome.keys.dataKeysRewrapped
            receipt.providerKeysPending += outcome.keys.providerKeysPending
            if !outcome.keys.backupProof { receipt.backupProof = false }
        }
        // The bot's utterances of calls not transcribed yet (their words would otherwise wait for a
        // transcript that, its recordings erased, never comes): key destroyed, rows deleted.
        let utterances = BotUtteranceVault(catalog: catalog, keyStore: keyStore)
        for call in calls {
            do { try await utterances.discard(callID: call.id, tenantID: tenantID) } catch {
                receipt.failures.append(SweepReport.Failure(recordingID: call.id, reason: error.message))
            }
        }
        do {
            _ = try await catalog.audit.append(
                AuditEvent(
                    actor: actor,
                    action: .subjectErased,
                    tenantID: tenantID,
                    subjectID: receipt.confirmationCode,
                    details: [
                        "calls": receipt.calls.joined(separator: ","),
                        "recordingsErased": String(receipt.recordingsErased.count),
                        "transcriptsErased": String(receipt.transcriptsErased.count),
                        "recordingsHeld": receipt.recordingsHeld.joined(separator: ","),
                        "failures": String(receipt.failures.count),
                        "dayKeysRegenerated": String(receipt.dayKeysRegenerated),
                        "dataKeysRewrapped": String(receipt.dataKeysRewrapped),
                        "providerKeysPending": String(receipt.providerKeysPending.count),
                        "backupProof": String(receipt.backupProof),
                    ],
                    at: now
                ))
        } catch {
            throw RetentionError(.catalogFailed, "the data was erased but the audit entry failed: \(error.message)")
        }
        return receipt
    }

    /// `ERASE-XXXX-XXXX-XXXX`: 48 random bits, enough to be unique per tenant and easy to read aloud.
    static func newCode() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        let groups = (0..<3).map { _ in String((0..<4).map { _ in alphabet[Int(generator.next() % 32)] }) }
        return "ERASE-" + groups.joined(separator: "-")
    }
}
