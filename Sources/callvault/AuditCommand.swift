import ArgumentParser
import CallVaultArchive
import CallVaultModel
import CallVaultStore

/// `callvault audit list|verify`: the append-only, hash-chained audit log.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read and verify the hash-chained audit log.",
        subcommands: [List.self, Verify.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List audit entries, oldest first.")

        @OptionGroup var options: DataOptions
        @Option(help: "Only entries about this tenant (tenant id).") var tenant: String?
        @Option(help: "Only entries after this sequence number.") var after: Int64 = 0
        @Option(help: "At most this many entries.") var limit: Int?
        @Flag(help: "Print one JSON document.") var json = false

        func run() async throws {
            if let limit, limit < 1 {
                throw CatalogCommandSupport.usageError(
                    "--limit must be at least 1",
                    hint: "omit it to list every entry"
                )
            }
            try await CatalogCommandSupport.runAsync {
                try await options.withStore { catalog in
                    let store = catalog.audit
                    let entries = try await store.entries(tenantID: tenant, afterSeq: after, limit: limit)
                    let outputs = entries.map(AuditEntryOutput.init)
                    if json {
                        try CatalogCommandSupport.printJSON(["entries": outputs])
                        return
                    }
                    CatalogCommandSupport.printTable(
                        header: ["SEQ", "AT", "ACTOR", "ACTION", "TENANT", "SUBJECT", "DETAILS"],
                        rows: outputs.map { entry in
                            [
                                String(entry.seq), CatalogCommandSupport.format(entry.at), entry.actor, entry.action,
                                entry.tenantId ?? "-", entry.subjectId ?? "-",
                                entry.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                                    separator: " "
                                ),
                            ]
                        }
                    )
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the hash chain; exit 1 if an entry was changed, removed or reordered."
        )

        @OptionGroup var options: DataOptions
        @Flag(help: "Print one JSON document.") var json = false
        @Flag(
            help: "Also compare the newest chain head anchored in the object store with the log (a directory with a bucket).")
        var againstObjects = false

        func run() async throws {
            var verification: AuditVerification?
            var anchorCheck: AuditAnchors.Check?
            let objects = againstObjects ? try options.sealedFiles().objects : nil
            if againstObjects && objects == nil {
                throw CLIError.failure(
                    "--against-objects needs a data directory whose sealed files are in an object store",
                    hint: "`callvault init --objects s3://BUCKET/PREFIX ...` sets one up for a new data directory")
            }
            try await CatalogCommandSupport.runAsync {
                verification = try await options.withStore { catalog in
                    if let objects {
                        do { anchorCheck = try await AuditAnchors(audit: catalog.audit, objects: objects).check() } catch {
                            throw CLIError.failure(
                                "cannot read the audit anchors in \(objects.location): \(error)",
                                hint: "check the object store answers, then retry")
                        }
                    }
                    return try await catalog.audit.verify()
                }
            }
            guard let verification else { return }
            var output = AuditVerificationOutput(verification)
            output.anchor = anchorCheck.map(AuditVerificationOutput.Anchor.init)
            if case .mismatch? = anchorCheck {
                if json { try CatalogCommandSupport.printJSON(output) } else {
                    CatalogCommandSupport.fail(
                        output.anchor?.message ?? "",
                        hint: "the catalog's audit log differs from what was anchored: restore it from a backup and compare")
                }
                throw ExitCode(1)
            }
            if !json, let anchor = output.anchor { print(anchor.message) }
            if json {
                try CatalogCommandSupport.printJSON(output)
            } else if verification.isIntact {
                print(output.message)
            }
            if !verification.isIntact {
                if !json {
                    CatalogCommandSupport.fail(
                        output.message,
                        hint: "restore the catalog from a backup and compare with `callvault audit list`"
                    )
                }
                throw ExitCode(1)
            }
        }
    }
}
