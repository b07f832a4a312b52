import CallVaultCrypto
public import CallVaultModel
import Foundation

/// The bot's utterances of a call, sealed in the catalog until its transcript holds them.
///
/// One data key per call (owner `bot-text:<call id>`, kind `transcript`, expiring with the tenant's
/// transcript retention), so the texts are crypto-shredded like a transcript: when the transcript is
/// sealed (``discard(callID:tenantID:)``), when the day key of their expiry is destroyed, or on erasure.
/// Each text is bound to its call and utterance id (moved to another row, it does not open).
public struct BotUtteranceVault: Sendable {
    let catalog: any CatalogStore
    let keyStore: KeyStore

    public init(catalog: any CatalogStore, keyStore: KeyStore) {
        self.catalog = catalog
        self.keyStore = keyStore
    }

    /// The key-store owner of a call's bot-text key.
    public static func keyOwner(callID: String) -> String { "bot-text:\(callID)" }

    /// Seals `text` and stores it as utterance `utteranceID` of the call.
    /// - Throws: `invalidArgument` for an empty or too long text, `duplicate` for an id already used on the
    ///   call, `restricted` once the call's texts were discarded (its transcript was made), `cryptoFailure`
    ///   when the key store cannot give a key.
    public func store(
        text: String, callID: String, tenantID: String, utteranceID: String, startMs: Int64, endMs: Int64?,
        placement: BotUtterance.Placement
    ) async throws(CatalogError) {
        let plain = Array(text.utf8)
        guard !plain.isEmpty, plain.count <= BotUtterance.maximumTextBytes else {
            throw CatalogError(
                .invalidArgument, "an utterance's text must be 1 to \(BotUtterance.maximumTextBytes) bytes of UTF-8")
        }
        let key = try await self.key(callID: callID, tenantID: tenantID, create: true)
        let sealed: [UInt8]
        do {
            sealed = try SealedText.seal(plain, key: key, aad: Self.aad(callID: callID, utteranceID: utteranceID))
        } catch {
            throw CatalogError(.cryptoFailure, "cannot seal an utterance of call \(callID): \(error.message)")
        }
        try await catalog.addBotUtterance(
            BotUtterance(
                callId: callID, utteranceId: utteranceID, startMs: startMs, endMs: endMs, placement: placement,
                sealedText: sealed))
    }

    /// The call's utterances with their texts, by start; empty when it has none (or they were discarded).
    public func texts(callID: String, tenantID: String) async throws(CatalogError) -> [(utterance: BotUtterance, text: String)] {
        let utterances = try await catalog.botUtterances(callID: callID)
        guard !utterances.isEmpty else { return [] }
        let key = try await self.key(callID: callID, tenantID: tenantID, create: false)
        return try utterances.map { utterance throws(CatalogError) in
            do throws(CryptoError) {
                let plain = try SealedText.open(
                    utterance.sealedText, key: key, aad: Self.aad(callID: callID, utteranceID: utterance.utteranceId))
                return (utterance, String(decoding: plain, as: UTF8.self))
            } catch {
                throw CatalogError(
                    .cryptoFailure,
                    "utterance \(utterance.utteranceId) of call \(callID) does not open (altered or moved): \(error.message)")
            }
        }
    }

    /// Destroys the call's bot-text key and deletes its utterances: their words now live in the sealed
    /// transcript (or the call was erased). Idempotent.
    public func discard(callID: String, tenantID: String) async throws(CatalogError) {
        do {
            try keyStore.destroyDataKey(ownerID: Self.keyOwner(callID: callID), tenantID: tenantID)
        } catch where error.code == .unknownDataKey {
            // The call never had an utterance.
        } catch {
            throw CatalogError(.cryptoFailure, "cannot destroy the bot-text key of call \(callID): \(error.message)")
        }
        try await catalog.deleteBotUtterances(callID: callID)
    }

    static func aad(callID: String, utteranceID: String) -> [UInt8] {
        Array("callvault bot utterance v1|\(callID)|\(utteranceID)".utf8)
    }

    private func key(callID: String, tenantID: String, create: Bool) async throws(CatalogError) -> SecretKey {
        let owner = Self.keyOwner(callID: callID)
        do {
            return try keyStore.dataKey(ownerID: owner, tenantID: tenantID)
        } catch where error.code == .unknownDataKey && create {
            // The call's first utterance: its key, expiring with the transcript it will end up in.
        } catch where error.code == .dataKeyShredded {
            throw CatalogError(
                .restricted, "call \(callID)'s transcript was already made (or the call erased): no more utterances")
        } catch {
            throw CatalogError(.cryptoFailure, "no bot-text key for call \(callID): \(error.message)")
        }
        let expiresAt = try await catalog.transcriptExpiry(tenantID: tenantID, createdAt: Date())
        let expiresOn = CalendarDay(secondsSince1970: Int64(expiresAt.timeIntervalSince1970.rounded(.down)))
        do {
            return try keyStore.newDataKey(tenantID: tenantID, ownerID: owner, kind: .transcript, expiresOn: expiresOn).key
        } catch where error.code == .dataKeyExists {
            // Another request made it first.
            do { return try keyStore.dataKey(ownerID: owner, tenantID: tenantID) } catch {
                throw CatalogError(.cryptoFailure, "no bot-text key for call \(callID): \(error.message)")
            }
        } catch {
            throw CatalogError(.cryptoFailure, "cannot make the bot-text key of call \(callID): \(error.message)")
        }
    }
}
