import ArgumentParser
import CallVaultModel
import CallVaultStore
import Foundation

/// `callvault webhooks list|redeliver`: the webhook outbox (see docs/webhooks.md).
struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "The webhook outbox: events waiting, delivered or dead-lettered, and redelivery.",
        subcommands: [List.self, Redeliver.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List webhook events, newest first.")

        @OptionGroup var options: DataOptions
        @Option(help: "Only this tenant's events.") var tenant: String?
        @Option(help: "Only events in this state: pending, delivered or dead.") var state: String?
        @Option(help: "At most this many events.") var limit = 100
        @Flag(help: "Print one JSON document (with each event's payload).") var json = false

        func validate() throws {
            if let state, WebhookDeliveryState(rawValue: state) == nil {
                throw ValidationError("--state '\(state)' is not one of pending, delivered, dead")
            }
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be 1...100000") }
        }

        func run() async throws {
            try await CatalogCommandSupport.runAsync {
                try await options.withStore { catalog in
                    let deliveries = try await catalog.webhooks.deliveries(
                        tenantID: tenant,
                        state: state.flatMap(WebhookDeliveryState.init(rawValue:)),
                        limit: limit
                    )
                    if json {
                        try CatalogCommandSupport.printJSON(["webhooks": deliveries])
                        return
                    }
                    CatalogCommandSupport.printTable(
                        header: ["ID", "TYPE", "TENANT", "CALL", "STATE", "ATTEMPTS", "NEXT-ATTEMPT", "LAST-ERROR"],
                        rows: deliveries.map {
                            [
                                $0.id, $0.type.rawValue, $0.tenantId, $0.callId ?? "", $0.state.rawValue,
                                String($0.attempts),
                                $0.state == .pending ? CatalogCommandSupport.format($0.nextAttemptAt) : "",
                                $0.lastError ?? "",
                            ]
                        }
                    )
                }
            }
        }
    }

    struct Redeliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send delivered or dead-lettered events again (same webhook-id), with a fresh retry window."
        )

        @OptionGroup var options: DataOptions
        @Argument(help: "Event ids (msg_…; see `callvault webhooks list --state dead`).") var ids: [String]

        func run() async throws {
            try await CatalogCommandSupport.runAsync {
                try await options.withStore { catalog in
                    for id in ids {
                        let delivery = try await catalog.webhooks.redeliver(id: id)
                        print("webhook \(delivery.id) (\(delivery.type.rawValue)): pending")
                    }
                }
            }
        }
    }
}
