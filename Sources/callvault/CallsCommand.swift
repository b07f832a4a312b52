import ArgumentParser
import CallVaultStore

/// `callvault calls list`: calls with their consent state and recordings.
struct CallsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls",
        abstract: "Calls, their consent state and their recordings.",
        subcommands: [List.self, Export.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List calls, newest first.")

        @OptionGroup var options: DataOptions
        @Option(help: "Only this tenant's calls (tenant id).") var tenant: String?
        @Option(help: "At most this many calls.") var limit: Int?
        @Flag(help: "Print one JSON document.") var json = false

        func run() async throws {
            if let limit, limit < 1 {
                throw CatalogCommandSupport.usageError("--limit must be at least 1", hint: "omit it to list every call")
            }
            try await CatalogCommandSupport.runAsync {
                try await options.withStore { catalog in
                    if let tenant { _ = try await catalog.tenant(id: tenant) }
                    let calls = try await catalog.callSummaries(tenantID: tenant, limit: limit)
                    if json {
                        try CatalogCommandSupport.printJSON(["calls": calls])
                        return
                    }
                    CatalogCommandSupport.printTable(
                        header: ["ID", "TENANT", "EXTERNAL-ID", "STARTED", "ENDED", "CONSENT", "RECORDINGS"],
                        rows: calls.map { call in
                            [
                                call.id, call.tenantId, call.externalId, CatalogCommandSupport.format(call.startedAt),
                                call.endedAt.map(CatalogCommandSupport.format) ?? "-", call.consentState.rawValue,
                                call.recordings.isEmpty
                                    ? "-"
                                    : call.recordings.map { "\($0.track.rawValue):\($0.state.rawValue)" }.joined(
                                        separator: ","
                                    ),
                            ]
                        }
                    )
                }
            }
        }
    }
}
