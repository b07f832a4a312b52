public import CallVaultModel
import CallVaultCrypto
public import Foundation
internal import GRDB

extension Catalog {
    /// Creates a tenant and returns it with its API token.
    ///
    /// The token is returned only here: the catalog keeps its SHA-256, so a lost token cannot be
    /// shown again (make a new tenant token instead). The tenant also gets a random 32-byte key for
    /// its keyed phone-number hashes. The creation is audited in the same transaction.
    public func addTenant(
        name: String,
        policy: TenantPolicy = TenantPolicy(),
        actor: String = "cli",
        at: Date = Date()
    ) throws(CatalogError) -> (tenant: Tenant, token: String) {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else {
            throw CatalogError(.invalidArgument, "a tenant name must have 1 to 200 characters")
        }
        try policy.validate()
        let at = at.catalogPrecision
        let (token, tokenHash) = try TenantToken.generate()
        var record = TenantRecord(
            id: Self.newID(),
            name: trimmed,
            tokenHash: Data(tokenHash),
            consentMode: .optIn,
            requireDisclosure: false,
            consentDigit: nil,
            optoutDigit: nil,
            voiceDays: 90,
            transcriptDays: 365,
            codec: .native,
            transcriptLanguage: "en",
            transcriptModel: nil,
            phoneHashKey: Data(count: 32),  // unused since v2: see KeyStore.callerKeys
            createdAt: at,
            updatedAt: at
        )
        record.policy = policy
        try write { db in
            if try TenantRecord.filter(TenantRecord.CodingKeys.name == trimmed).fetchCount(db) > 0 {
                throw CatalogError(.duplicate, "a tenant named \(trimmed) already exists")
            }
            try record.insert(db)
            try AuditLog.append(
                in: db,
                actor: actor,
                action: .tenantCreated,
                tenantID: record.id,
                subjectID: record.id,
                details: Self.auditDetails(of: policy),
                at: at
            )
        }
        return (try tenant(id: record.id), token)
    }

    /// The tenant a token belongs to, or nil for an unknown token.
    ///
    /// The token is hashed and looked up by its hash, then compared in constant time: what the
    /// lookup's timing could reveal is about a SHA-256 output, not about any valid token.
    public func tenant(authenticatedBy token: String) throws(CatalogError) -> Tenant? {
        guard token.hasPrefix(TenantToken.prefix), token.utf8.count < 200 else { return nil }
        let hash = TenantToken.hash(token)
        let record = try read { db in
            try TenantRecord.filter(TenantRecord.CodingKeys.tokenHash == Data(hash)).fetchOne(db)
        }
        guard let record, CatalogHash.constantTimeEquals(Array(record.tokenHash), hash) else { return nil }
        return record.tenant
    }

    /// The tenant with this id.
    public func tenant(id: String) throws(CatalogError) -> Tenant {
        try tenantRecord(id: id).tenant
    }

    /// All tenants, by name.
    public func tenants() throws(CatalogError) -> [Tenant] {
        try read { db in
            try TenantRecord.order(TenantRecord.CodingKeys.name).fetchAll(db).map(\.tenant)
        }
    }

    /// Replaces a tenant's policy (after validating it); applies to recordings made from now on.
    @discardableResult
    public func updatePolicy(
        ofTenant id: String,
        to policy: TenantPolicy,
        actor: String = "cli",
        at: Date = Date()
    ) throws(CatalogError) -> Tenant {
        try policy.validate()
        let at = at.catalogPrecision
        return try write { db in
            guard var record = try TenantRecord.fetchOne(db, key: id) else {
                throw CatalogError(.notFound, "no tenant with id \(id)")
            }
            let before = record.policy
            record.policy = policy
            record.updatedAt = at
            try record.update(db)
            var details = Self.auditDetails(of: policy)
            details["changed"] = Self.changedFields(from: before, to: policy).joined(separator: ",")
            try AuditLog.append(
                in: db,
                actor: actor,
                action: .tenantPolicyChanged,
                tenantID: id,
                subjectID: id,
                details: details,
                at: at
            )
            return record.tenant
        }
    }

    func tenantRecord(id: String) throws(CatalogError) -> TenantRecord {
        let record = try read { db in try TenantRecord.fetchOne(db, key: id) }
        guard let record else {
            throw CatalogError(.notFound, "no tenant with id \(id)")
        }
        return record
    }

    /// A policy as audit details: settings only, nothing secret.
    static func auditDetails(of policy: TenantPolicy) -> [String: String] {
        [
            "consentMode": policy.consentMode.rawValue,
            "requireDisclosure": String(policy.requireDisclosure),
            "consentDigit": policy.consentDigit.map(String.init) ?? "",
            "optOutDigit": policy.optOutDigit.map(String.init) ?? "",
            "voiceDays": String(policy.voiceDays),
            "transcriptDays": String(policy.transcriptDays),
            "codec": policy.codec.rawValue,
            "transcriptLanguage": policy.transcriptLanguage,
            "transcriptModel": policy.transcriptModel ?? "",
            "sipAllow": policy.sip.allow.map(\.description).joined(separator: ","),
            "sipTenantAddresses": policy.sip.tenantAddresses.joined(separator: ","),
            "redact": policy.redact.listText,
            "botTranscript": policy.transcription.botTranscript.rawValue,
            // The phrases are the tenant's business vocabulary, not personal data; the count is enough.
            "vocabulary": String(policy.transcription.vocabulary.count),
            "vocabularyDigest": policy.transcription.vocabulary.isEmpty
                ? ""
                : Hex.encode(CatalogHash.sha256(Array(policy.transcription.vocabulary.joined(separator: "\n").utf8)).prefix(8)),
            // Fingerprints of public certificates: not secret, and what an auditor needs to tell which were pinned.
            "clientCertificates": String(policy.clientCertificates.fingerprints.count),
            "clientCertificateFingerprints": policy.clientCertificates.fingerprints.joined(separator: ","),
        ]
    }

    static func changedFields(from old: TenantPolicy, to new: TenantPolicy) -> [String] {
        let before = auditDetails(of: old)
        return auditDetails(of: new).filter { before[$0.key] != $0.value }.map(\.key).sorted()
    }
}
