import ArgumentParser
import CallVaultModel

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
        @Flag(help: "Print one JSON document.") var json = false

        func run() async throws {
            let newPolicy = try policy.apply(to: TenantPolicy())
            try CatalogCommandSupport.run {
                // Both stores first: an uninitialised directory fails before anything is written.
                let catalog = try options.openCatalog()
                let keyStore = try options.openKeyStore()
                let (tenant, token) = try catalog.addTenant(name: name, policy: newPolicy)
                // The tenant's own key, under which its day and data keys will be wrapped.
                do throws(KeyStoreError) {
                    try keyStore.ensureTenant(tenant.id)
                } catch {
                    throw CatalogError(.unavailable, "tenant \(tenant.id) was added but its key was not created: \(error.message); run `callvault tenant add` again with another name, or report it")
                }
                let output = TenantOutput(tenant: tenant, token: token)
                if json { try CatalogCommandSupport.printJSON(output) } else { output.printText() }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants and their policies.")

        @OptionGroup var options: DataOptions
        @Flag(help: "Print one JSON document.") var json = false

        func run() async throws {
            try CatalogCommandSupport.run {
                let tenants = try options.openCatalog().tenants()
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
            try CatalogCommandSupport.run {
                let output = TenantOutput(tenant: try options.openCatalog().tenant(id: id), token: nil)
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
        @Flag(help: "Print one JSON document.") var json = false

        func run() async throws {
            try CatalogCommandSupport.run {
                let catalog = try options.openCatalog()
                let current = try catalog.tenant(id: id)
                let changed = try policy.apply(to: current.policy)
                let output = TenantOutput(tenant: try catalog.updatePolicy(ofTenant: id, to: changed), token: nil)
                if json { try CatalogCommandSupport.printJSON(output) } else { output.printText() }
            }
        }
    }
}
