public import CallVaultModel
public import CallVaultStore
public import Foundation

/// Legal hold on one recording, kept in step in the key store (the key is re-wrapped under the
/// tenant's hold key, so destroying its day key spares it) and the catalog (the sweeper skips it).
///
/// Order for crash safety: placing a hold protects the key first, then marks the catalog; clearing
/// marks the catalog first, then returns the key to its day key (or shreds it, if its day has passed).
/// A crash between the two steps errs on keeping data, and repeating the command finishes it.
/// The catalog is any ``CatalogStore``; the key store stays the data directory's.
public struct LegalHold: Sendable {
    public let catalog: any CatalogStore
    public let keyStore: KeyStore

    public init(catalog: any CatalogStore, keyStore: KeyStore) {
        self.catalog = catalog
        self.keyStore = keyStore
    }

    /// Holds a recording: it is kept past its expiry until the hold is cleared. Audited.
    @discardableResult
    public func set(recordingID: String, reason: String?, actor: String = "cli", at: Date = Date())
        async throws(RetentionError) -> RecordingRecord
    {
        let recording = try await find(recordingID)
        guard recording.state != .shredded else {
            throw RetentionError(.invalidState, "recording \(recordingID) is already shredded; a hold cannot bring it back")
        }
        do {
            try keyStore.placeHold(ownerID: recording.id, tenantID: recording.tenantId)
        } catch where error.code == .unknownDataKey {
            // No key yet (nothing sealed): the catalog flag alone keeps the sweeper away.
        } catch {
            throw RetentionError(.keyStoreFailed, "cannot hold the key of recording \(recordingID): \(error.message)")
        }
        do {
            return try await catalog.setHold(recordingID: recording.id, held: true, reason: reason, actor: actor, at: at)
        } catch {
            throw RetentionError(.catalogFailed, "cannot mark recording \(recordingID) held: \(error.message)")
        }
    }

    /// Clears a hold. A recording whose expiry has passed meanwhile loses its key now and its file
    /// at the next sweep. Audited.
    @discardableResult
    public func clear(recordingID: String, actor: String = "cli", at: Date = Date())
        async throws(RetentionError) -> HoldRelease?
    {
        let recording = try await find(recordingID)
        do {
            _ = try await catalog.setHold(recordingID: recording.id, held: false, reason: nil, actor: actor, at: at)
        } catch {
            throw RetentionError(.catalogFailed, "cannot clear the hold of recording \(recordingID): \(error.message)")
        }
        let expiresOn = CalendarDay(secondsSince1970: Int64(recording.expiresAt.timeIntervalSince1970.rounded(.down)))
        let today = CalendarDay(secondsSince1970: Int64(at.timeIntervalSince1970.rounded(.down)))
        do {
            return try keyStore.releaseHold(
                ownerID: recording.id, tenantID: recording.tenantId, expiresOn: expiresOn, today: today)
        } catch where error.code == .notHeld || error.code == .unknownDataKey {
            return nil
        } catch {
            throw RetentionError(.keyStoreFailed, "cannot release the key of recording \(recordingID): \(error.message)")
        }
    }

    private func find(_ recordingID: String) async throws(RetentionError) -> RecordingRecord {
        do {
            return try await catalog.recording(id: recordingID, tenantID: nil)
        } catch where error.code == .notFound {
            throw RetentionError(.invalidState, "no recording with id \(recordingID)")
        } catch {
            throw RetentionError(.catalogFailed, "cannot read recording \(recordingID): \(error.message)")
        }
    }
}
