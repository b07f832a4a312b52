import CallVaultModel
import Foundation
internal import GRDB

/// The `tenants` row, secrets included: the SHA-256 of the tenant's token and its phone-hash key.
///
/// Internal on purpose: only the catalog reads the secrets; everyone else gets a ``Tenant``.
/// The phone-hash key is stored as is for now; it belongs in the key store (wrapped under the
/// tenant key) once that exists, so a stolen catalog alone cannot test guessed phone numbers.
struct TenantRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "tenants"

    var id: String
    var name: String
    var tokenHash: Data
    var consentMode: ConsentMode
    var requireDisclosure: Bool
    var consentDigit: String?
    var optoutDigit: String?
    var voiceDays: Int
    var transcriptDays: Int
    var codec: StorageCodec
    var transcriptLanguage: String
    var transcriptModel: String?
    var sipSettings: String?
    var redact: String?
    var transcription: String?
    var clientCerts: String?
    var phoneHashKey: Data
    var createdAt: Date
    var updatedAt: Date

    enum CodingKeys: String, CodingKey, ColumnExpression {
        case id, name
        case tokenHash = "token_hash"
        case consentMode = "consent_mode"
        case requireDisclosure = "require_disclosure"
        case consentDigit = "consent_digit"
        case optoutDigit = "optout_digit"
        case voiceDays = "voice_days"
        case transcriptDays = "transcript_days"
        case codec
        case transcriptLanguage = "transcript_language"
        case transcriptModel = "transcript_model"
        case sipSettings = "sip_settings"
        case redact
        case transcription
        case clientCerts = "client_certs"
        case phoneHashKey = "phone_hash_key"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    var policy: TenantPolicy {
        get {
            TenantPolicy(
                consentMode: consentMode,
                requireDisclosure: requireDisclosure,
                consentDigit: consentDigit?.first,
                optOutDigit: optoutDigit?.first,
                voiceDays: voiceDays,
                transcriptDays: transcriptDays,
                codec: codec,
                transcriptLanguage: transcriptLanguage,
                transcriptModel: transcriptModel,
                sip: TenantSIPSettings(columnText: sipSettings),
                redact: TenantRedaction(columnText: redact),
                transcription: TenantTranscription(columnText: transcription),
                clientCertificates: TenantClientCertificates(columnText: clientCerts)
            )
        }
        set {
            consentMode = newValue.consentMode
            requireDisclosure = newValue.requireDisclosure
            consentDigit = newValue.consentDigit.map(String.init)
            optoutDigit = newValue.optOutDigit.map(String.init)
            voiceDays = newValue.voiceDays
            transcriptDays = newValue.transcriptDays
            codec = newValue.codec
            transcriptLanguage = newValue.transcriptLanguage
            transcriptModel = newValue.transcriptModel
            sipSettings = newValue.sip.columnText
            redact = newValue.redact.columnText
            transcription = newValue.transcription.columnText
            clientCerts = newValue.clientCertificates.columnText
        }
    }

    var tenant: Tenant {
        Tenant(id: id, name: name, policy: policy, createdAt: createdAt, updatedAt: updatedAt)
    }
}
