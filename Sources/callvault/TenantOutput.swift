import CallVaultModel
import Foundation

/// A tenant as the CLI prints it: id, name, the policy's fields flat beside them (CLI.md's
/// `{"id","name","token",...policy}`), and the token only on creation.
struct TenantOutput: Encodable {
    let tenant: Tenant
    let token: String?
    /// The tenant's webhook endpoint (its URL and setting; never a secret), if it has one.
    var webhook: WebhookEndpoint? = nil
    /// A webhook signing secret made just now, shown this once (`whsec_…`).
    var webhookSecret: String? = nil

    enum CodingKeys: String, CodingKey {
        case id, name, token, createdAt, updatedAt, webhookUrl, webhookAllowPrivate, webhookSecret, webhookPreviousSecretUntil
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tenant.id, forKey: .id)
        try container.encode(tenant.name, forKey: .name)
        try container.encodeIfPresent(token, forKey: .token)
        try container.encode(tenant.createdAt, forKey: .createdAt)
        try container.encode(tenant.updatedAt, forKey: .updatedAt)
        if let webhook {
            try container.encode(webhook.url, forKey: .webhookUrl)
            try container.encode(webhook.allowPrivate, forKey: .webhookAllowPrivate)
            try container.encodeIfPresent(webhook.previousUntil, forKey: .webhookPreviousSecretUntil)
        }
        try container.encodeIfPresent(webhookSecret, forKey: .webhookSecret)
        try tenant.policy.encode(to: encoder)
    }

    /// `key  value` lines for people.
    func printText() {
        var rows: [(String, String)] = [("id", tenant.id), ("name", tenant.name)]
        if let token {
            rows.append(("token", "\(token)  (shown once: store it now; only its hash is kept)"))
        }
        let policy = tenant.policy
        rows += [
            ("consent", policy.consentMode.rawValue),
            ("require-disclosure", policy.requireDisclosure ? "yes" : "no"),
            ("consent-digit", policy.consentDigit.map(String.init) ?? "none"),
            ("optout-digit", policy.optOutDigit.map(String.init) ?? "none"),
            ("voice-days", String(policy.voiceDays)),
            ("transcript-days", String(policy.transcriptDays)),
            ("codec", policy.codec.rawValue),
            ("transcript-language", policy.transcriptLanguage),
            ("transcript-model", policy.transcriptModel ?? "default (the run's)"),
            ("sip-allow", policy.sip.allow.isEmpty ? "none" : policy.sip.allow.map(\.description).joined(separator: ",")),
            (
                "sip-tenant-address",
                policy.sip.tenantAddresses.isEmpty ? "none (first stream is the customer)" : policy.sip.tenantAddresses.joined(separator: ",")
            ),
            ("redact", policy.redact.listText),
            ("bot-transcript", policy.transcription.botTranscript.rawValue),
            (
                "vocabulary",
                policy.transcription.vocabulary.isEmpty
                    ? "none" : "\(policy.transcription.vocabulary.count) phrases (tenant show --json lists them)"
            ),
            (
                "client-certs",
                policy.clientCertificates.isEmpty
                    ? "none (the token alone is enough)"
                    : policy.clientCertificates.fingerprints.map { "sha256 \($0)" }.joined(separator: ", ")
            ),
            ("webhook-url", webhook.map { $0.url + ($0.allowPrivate ? "  (private targets allowed)" : "") } ?? "none"),
            ("created", CatalogCommandSupport.format(tenant.createdAt)),
        ]
        if let webhookSecret {
            rows.append(("webhook-secret", "\(webhookSecret)  (shown once: give it to the receiver now; it verifies the signatures)"))
        }
        if let until = webhook?.previousUntil {
            rows.append(("webhook-old-secret", "still signs beside the new one until \(CatalogCommandSupport.format(until))"))
        }
        let width = rows.map(\.0.count).max() ?? 0
        for (key, value) in rows {
            print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
    }
}
