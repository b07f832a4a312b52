import ArgumentParser
import CallVaultModel
import CallVaultStore
import CallVaultWebhooks
import Foundation

/// The webhook flags of `tenant add` and `tenant set`: where the tenant's events go, whether that may be
/// a private address, and the signing secret's rotation. A new secret is printed once (`webhookSecret`).
struct TenantWebhookOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Where the tenant's events are POSTed, signed (https://; http:// only with --webhook-allow-private), "
                + "or 'none' to stop sending them.",
            valueName: "URL|none"
        )
    )
    var webhookUrl: String?

    @Flag(
        inversion: .prefixedNo,
        help:
            "Let the webhook URL resolve to private, loopback or link-local addresses (refused by default: SSRF guard)."
    )
    var webhookAllowPrivate: Bool?

    @Flag(help: "tenant set: a new signing secret (printed once); the old one keeps signing beside it for the overlap.")
    var rotateWebhookSecret = false

    @Option(help: "Hours the rotated-out secret keeps signing beside the new one.")
    var webhookSecretOverlapHours = 24.0

    var touchesWebhook: Bool { webhookUrl != nil || webhookAllowPrivate != nil || rotateWebhookSecret }

    func validate() throws {
        guard (0...720).contains(webhookSecretOverlapHours) else {
            throw ValidationError("--webhook-secret-overlap-hours must be 0...720")
        }
    }

    /// Applies the flags to the tenant's endpoint; returns the secret to show once when a new one was made.
    func apply(tenantID: String, catalog: any CatalogStore, keyStore: KeyStore) async throws -> String? {
        guard touchesWebhook else { return nil }
        let store = catalog.webhooks
        let current = try await store.endpoint(tenantID: tenantID)
        if webhookUrl == "none" {
            guard current != nil else { return nil }
            try await store.removeEndpoint(tenantID: tenantID, actor: "cli", at: Date())
            return nil
        }
        guard let url = webhookUrl ?? current?.url else {
            throw CLIError.usage("tenant \(tenantID) has no webhook URL", hint: "give --webhook-url URL")
        }
        let allowPrivate = webhookAllowPrivate ?? current?.allowPrivate ?? false
        try WebhookURLCheck.checkSyntax(url, allowPrivate: allowPrivate)
        try Self.checkTarget(url, allowPrivate: allowPrivate)
        let now = Date()
        var shown: String?
        var endpoint: WebhookEndpoint
        if let current, !rotateWebhookSecret {
            endpoint = current
        } else {
            let fresh: (wrapped: WebhookEndpoint.WrappedSecret, shown: String)
            do { fresh = try keyStore.newWebhookSecret(tenantID: tenantID) } catch { throw CLIError(error) }
            shown = fresh.shown
            endpoint = WebhookEndpoint(
                tenantId: tenantID,
                url: url,
                allowPrivate: allowPrivate,
                secret: fresh.wrapped,
                updatedAt: now
            )
            if let current {
                endpoint.previousSecret = current.secret
                endpoint.previousUntil = now.addingTimeInterval(webhookSecretOverlapHours * 3600)
            }
        }
        endpoint.url = url
        endpoint.allowPrivate = allowPrivate
        endpoint.updatedAt = now
        try await store.setEndpoint(endpoint, actor: "cli", at: now)
        return shown
    }

    /// The SSRF guard at configuration time: a URL that resolves to a private address without
    /// --webhook-allow-private is refused now rather than dead-lettered later; a name that does not
    /// resolve yet is accepted with a warning (it is checked again before every delivery).
    static func checkTarget(_ url: String, allowPrivate: Bool) throws {
        guard let parsed = URL(string: url) else { throw CLIError.usage("the webhook URL does not parse") }
        do { try WebhookTargetGuard.check(parsed, allowPrivate: allowPrivate) } catch {
            if error.code == .unresolved {
                CLIError.writeToStandardError(
                    "callvault: warning: \(error.message); it is checked again before each delivery\n"
                )
                return
            }
            throw CLIError.usage(error.message, hint: "give a public https:// receiver, or --webhook-allow-private")
        }
    }
}
