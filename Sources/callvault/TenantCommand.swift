import ArgumentParser
import CallVaultKeyProviders
import CallVaultModel
import CallVaultStore
import Foundation

/// `callvault tenant add|list|show|set`: the customers and their recording policies.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant",
        abstract: "Create tenants and read or change their recording policy.",
        subcommands: [Add.self, List.self, Show.self, SetPolicy.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a tenant; prints its API token once (only its hash is stored)."
        )

        @OptionGroup var options: DataOptions
        @Argument(help: "The tenant's name (unique).") var name: String
        @OptionGroup var policy: TenantPolicyOptions
        @OptionGroup(title: "The tenant's own key provider (bring your own key; default: the data directory's)")
        var keyProvider: KeyProviderOptions
        @OptionGroup(title: "Webhooks (signed events about its calls; see docs/webhooks.md)") var webhook: TenantWebhookOptions
        @Flag(help: "Print one JSON document.") var json = false

        func validate() throws {
            try TenantCommand.checkOwnProvider(keyProvider)
            if webhook.rotateWebhookSecret { throw ValidationError("--rotate-webhook-secret is for `tenant set`") }
        }

        func run() async throws {
            let newPolicy = try policy.apply(to: TenantPolicy())
            // The tenant's own provider is opened (and checked) before anything is written.
            let own = try TenantCommand.openOwnProvider(keyProvider)
            try await CatalogCommandSupport.runAsync {
                // The webhook URL is checked before the tenant exists (form, then the SSRF guard).
                if let url = webhook.webhookUrl, url != "none" {
                    try WebhookURLCheck.checkSyntax(url, allowPrivate: webhook.webhookAllowPrivate ?? false)
                    try TenantWebhookOptions.checkTarget(url, allowPrivate: webhook.webhookAllowPrivate ?? false)
                }
                // Both stores first: an uninitialised directory fails before anything is written.
                try await options.withStore { catalog in
                    let keyStore = try await options.openKeyStore()
                    let (tenant, token) = try await catalog.addTenant(name: name, policy: newPolicy, actor: "cli", at: Date())
                    // The tenant's own key, under which its day and data keys will be wrapped.
                    do throws(KeyStoreError) {
                        try keyStore.ensureTenant(tenant.id)
                    } catch {
                        throw CatalogError(.unavailable, "tenant \(tenant.id) was added but its key was not created: \(error.message); run `callvault tenant add` again with another name, or report it")
                    }
                    if let own {
                        // Before the token is shown: a tenant cannot stream (and make day keys) without it.
                        do { try TenantCommand.saveOwnProvider(own, tenantID: tenant.id, in: options.directory) } catch {
                            throw CatalogError(.unavailable, "tenant \(tenant.id) was added but its key provider was not saved (\(error)); run `callvault tenant set \(tenant.id)` with the same --key-provider options before its first call")
                        }
                    }
                    let secret: String?
                    do { secret = try await webhook.apply(tenantID: tenant.id, catalog: catalog, keyStore: keyStore) } catch {
                        throw CatalogError(.unavailable, "tenant \(tenant.id) was added but its webhook was not set (\(error)); run `callvault tenant set \(tenant.id) --webhook-url URL` (its token is not shown: add the tenant again with another name if you need one)")
                    }
                    let output = TenantOutput(
                        tenant: tenant, token: token, webhook: try await catalog.webhooks.endpoint(tenantID: tenant.id),
                        webhookSecret: secret)
                    if json { try CatalogCommandSupport.printJSON(output) } else { output.printText() }
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants and their policies.")

        @OptionGroup var options: DataOptions
        @Flag(help: "Print one JSON document.") var json = false

        func run() async throws {
            try await CatalogCommandSupport.runAsync {
                let tenants = try await options.withStore { catalog in try await catalog.tenants() }
                if json {
                    try CatalogCommandSupport.printJSON([
                        "tenants": tenants.map { TenantOutput(tenant: $0, token: nil) }
                    ])
                    return
                }
                CatalogCommandSupport.printTable(
                    header: ["ID", "NAME", "CONSENT", "VOICE-DAYS", "TRANSCRIPT-DAYS", "CODEC", "LANGUAGE", "MODEL"],
                    rows: tenants.map {
                        [
                            $0.id, $0.name, $0.policy.consentMode.rawValue, String($0.policy.voiceDays),
                            String($0.policy.transcriptDays), $0.policy.codec.rawValue,
                            $0.policy.transcriptLanguage, $0.policy.transcriptModel ?? "default",
                        ]
                    }
                )
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one tenant's policy.")

        @OptionGroup var options: DataOptions
        @Argument(help: "The tenant id.") var id: String
        @Flag(help: "Print one JSON document.") var json = false

        func run() async throws {
            try await CatalogCommandSupport.runAsync {
                let output = try await options.withStore { catalog in
                    TenantOutput(
                        tenant: try await catalog.tenant(id: id), token: nil,
                        webhook: try await catalog.webhooks.endpoint(tenantID: id), webhookSecret: nil)
                }
                if json { try CatalogCommandSupport.printJSON(output) } else { output.printText() }
            }
        }
    }

    struct SetPolicy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Change a tenant's policy; applies to recordings made from now on."
        )

        @OptionGroup var options: DataOptions
        @Argument(help: "The tenant id.") var id: String
        @OptionGroup var policy: TenantPolicyOptions
        @OptionGroup(title: "The tenant's own key provider (only while it has no day keys, or the same keys)")
        var keyProvider: KeyProviderOptions
        @OptionGroup(title: "Webhooks (signed events about its calls; see docs/webhooks.md)") var webhook: TenantWebhookOptions
        @Flag(help: "Print one JSON document.") var json = false

        func validate() throws { try TenantCommand.checkOwnProvider(keyProvider) }

        func run() async throws {
            let own = try TenantCommand.openOwnProvider(keyProvider)
            try await CatalogCommandSupport.runAsync {
                try await options.withStore { catalog in
                    let current = try await catalog.tenant(id: id)
                    if let own { try await TenantCommand.changeOwnProvider(own, tenantID: id, options: options) }
                    let changed = try policy.apply(to: current.policy)
                    var tenant = current
                    if changed != current.policy || !webhook.touchesWebhook {
                        tenant = try await catalog.updatePolicy(ofTenant: id, to: changed, actor: "cli", at: Date())
                    }
                    var secret: String?
                    if webhook.touchesWebhook {
                        let keyStore = try await options.openKeyStore()
                        secret = try await webhook.apply(tenantID: id, catalog: catalog, keyStore: keyStore)
                    }
                    let output = TenantOutput(
                        tenant: tenant, token: nil, webhook: try await catalog.webhooks.endpoint(tenantID: id), webhookSecret: secret)
                    if json { try CatalogCommandSupport.printJSON(output) } else { output.printText() }
                }
            }
        }
    }

    /// A tenant's own provider reads its PIN or token from a file (the environment is the directory's).
    static func checkOwnProvider(_ options: KeyProviderOptions) throws {
        guard let kind = options.kind, kind != .local else { return }
        let settings = options.providerSettings
        if kind == .pkcs11, settings.pkcs11PinFile == nil {
            throw ValidationError("a tenant's own PKCS#11 provider needs --pkcs11-pin-file FILE (mode 0600): CALLVAULT_PKCS11_PIN is the data directory's")
        }
        if kind == .transit, settings.transitTokenFile == nil {
            throw ValidationError("a tenant's own Transit provider needs --transit-token-file FILE (mode 0600): CALLVAULT_TRANSIT_TOKEN is the data directory's")
        }
    }

    /// The tenant's own provider settings, opened once to check they work; nil for none (`local`).
    static func openOwnProvider(_ options: KeyProviderOptions) throws -> KeyProviderSettings? {
        guard let kind = options.kind, kind != .local else { return nil }
        let settings = options.settings()
        do {
            let provider = try settings.openForTenant()
            (provider as? TransitKeyProvider)?.shutdown()
        } catch {
            throw CLIError.failure("the tenant's key provider \(settings.summary) cannot be opened: \(error.message)", hint: "check its options and its PIN or token file")
        }
        return settings
    }

    /// Writes the tenant's own provider into the directory's `key-provider.json`.
    static func saveOwnProvider(_ own: KeyProviderSettings, tenantID: String, in directory: DataDirectory) throws {
        let current = try KeyProviderSettings.read(directory) ?? .local
        try current.setting(tenant: tenantID, to: own).write(directory)
    }

    /// `tenant set --key-provider`: allowed while the tenant has no day keys, or to update how the same
    /// keys are reached (PIN or token file, CA file); moving a tenant's keys between providers is not built.
    static func changeOwnProvider(_ own: KeyProviderSettings, tenantID: String, options: DataOptions) async throws {
        let current = try KeyProviderSettings.read(options.directory) ?? .local
        let existing = current.tenants?[tenantID]
        if existing?.namesSameKeys(as: own) != true {
            let keyStore = try await options.openKeyStore()
            let count: Int
            do { count = try keyStore.dayKeyCount(tenantID: tenantID) } catch { throw CLIError(error) }
            if count > 0 {
                throw CLIError.failure(
                    "tenant \(tenantID) has \(count) day key(s) under \(existing?.summary ?? current.summary); moving a tenant's keys to another provider is not built",
                    hint: "a tenant's provider can be set while it has no day keys (before its first call)")
            }
        }
        try current.setting(tenant: tenantID, to: own).write(options.directory)
    }
}
