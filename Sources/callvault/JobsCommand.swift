import ArgumentParser
import CallVaultModel
import CallVaultStore

/// `callvault jobs list`: the transcription queue.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "The transcription queue: one job per call and engine.",
        subcommands: [List.self, Retry.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, oldest first.")

        @OptionGroup var options: DataOptions
        @Option(help: "Only jobs in this state: queued, running, done, failed, dead or cancelled.") var state: String?
        @Flag(help: "Print one JSON document.") var json = false

        func validate() throws {
            if let state, JobState(rawValue: state) == nil {
                throw ValidationError("--state '\(state)' is not one of queued, running, done, failed, dead, cancelled")
            }
        }

        func run() async throws {
            try await CatalogCommandSupport.runAsync {
                try await options.withStore { catalog in
                    let queue = catalog.queue
                    let jobs = try await queue.jobs(state: state.flatMap(JobState.init(rawValue:)))
                    if json {
                        try CatalogCommandSupport.printJSON(["jobs": jobs])
                        return
                    }
                    CatalogCommandSupport.printTable(
                        header: ["ID", "CALL", "ENGINE", "STATE", "PRIORITY", "ATTEMPTS", "RUN-AFTER", "LAST-ERROR"],
                        rows: jobs.map {
                            [
                                $0.id, $0.callId, $0.engine, $0.state.rawValue, String($0.priority), String($0.attempts),
                                CatalogCommandSupport.format($0.runAfter), $0.lastError ?? "",
                            ]
                        }
                    )
                }
            }
        }
    }
}

extension JobsCommand {
    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a dead, cancelled or failed job again now, with a fresh attempt count (audited job.retried).")

        @OptionGroup var options: DataOptions
        @Argument(help: "Job ids (see `callvault jobs list --state dead`).") var ids: [String]

        func run() async throws {
            try await CatalogCommandSupport.runAsync {
                try await options.withStore { catalog in
                    let queue = catalog.queue
                    for id in ids {
                        // The state it leaves goes into the audit entry, as the console's retry writes it.
                        let before = try await queue.jobs(state: nil).first { $0.id == id }
                        let job = try await queue.retry(jobID: id)
                        do throws(AuditStoreError) {
                            _ = try await catalog.audit.append(.jobRetried(before ?? job, actor: "cli"))
                        } catch {
                            throw CLIError.failure(
                                "job \(job.id) is queued again, but its audit entry could not be written: \(error.message)")
                        }
                        print("job \(job.id) (call \(job.callId)): queued")
                    }
                }
            }
        }
    }
}
