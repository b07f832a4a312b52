import ArgumentParser
import CallVaultStore
import Foundation

/// `callvault recordings list`: the sealed recordings in the catalog.
struct RecordingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recordings",
        abstract: "Sealed recordings: one per track of a call.",
        subcommands: [List.self, Export.self, Restrict.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recordings, newest first.")

        @OptionGroup var options: DataOptions
        @Option(help: "Only this call's recordings (call id).") var call: String?
        @Option(help: "Only this tenant's recordings (tenant id).") var tenant: String?
        @Flag(help: "Print one JSON document.") var json = false

        func run() async throws {
            try await CatalogCommandSupport.runAsync {
                try await options.withStore { catalog in
                    if let tenant { _ = try await catalog.tenant(id: tenant) }
                    if let call { _ = try await catalog.call(id: call, tenantID: tenant) }
                    let recordings = try await catalog.recordingSummaries(callID: call, tenantID: tenant)
                    if json {
                        try CatalogCommandSupport.printJSON(["recordings": recordings])
                        return
                    }
                    CatalogCommandSupport.printTable(
                        header: [
                            "ID", "CALL", "TENANT", "TRACK", "STATE", "CODEC", "DURATION-MS", "BYTES", "EXPIRES", "HOLD",
                        ],
                        rows: recordings.map {
                            [
                                $0.id, $0.callId, $0.tenantId, $0.track.rawValue, $0.state.rawValue, $0.codec.rawValue,
                                String($0.durationMs), String($0.bytes), CatalogCommandSupport.format($0.expiresAt),
                                $0.hold ? "yes" : "no",
                            ]
                        }
                    )
                }
            }
        }
    }
}

extension RecordingsCommand {
    /// GDPR Art. 18: the data subject contests the data or objects; it is kept but not processed.
    struct Restrict: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restrict a recording (kept, not transcribed or exported without an audited override), or --lift it.")

        @OptionGroup var options: DataOptions
        @Argument(help: "The recording's id.") var id: String
        @Option(help: "Why (kept in the audit log; no personal data).") var reason: String
        @Flag(help: "Lift the restriction instead.") var lift = false

        func run() async throws {
            try await CatalogCommandSupport.runAsync {
                try await options.withStore { catalog in
                    try await catalog.setRestricted(recordingID: id, !lift, reason: reason, actor: "cli", at: Date())
                }
                print(lift ? "recording \(id): restriction lifted" : "recording \(id): restricted (not transcribed or exported without an override)")
            }
        }
    }
}
