import ArgumentParser
import CallVaultModel
import CallVaultStore
import Foundation

/// Output and error conventions of CLI.md for the catalog commands: one JSON document on stdout
/// with `--json`, errors as one stderr line `callvault: error: WHAT (HINT)`, exit 1 for a failed
/// operation and 2 for bad usage.
enum CatalogCommandSupport {
    /// Runs a command body, turning a ``CatalogError`` into the CLI's error line and exit code.
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as CatalogError {
            let usage = error.code == .invalidPolicy || error.code == .invalidArgument
            fail(error.message, hint: hint(for: error.code))
            throw ExitCode(usage ? 2 : 1)
        }
    }

    /// Runs an async command body on the job queue or the catalog, with the same error line and exit codes.
    static func runAsync(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as JobQueueError {
            fail(error.message, hint: hint(for: error.code))
            throw ExitCode(error.code == .invalidArgument ? 2 : 1)
        } catch let error as AuditStoreError {
            fail(error.message, hint: hint(for: error.code))
            throw ExitCode(error.code == .invalidArgument ? 2 : 1)
        } catch let error as CatalogError {
            let usage = error.code == .invalidPolicy || error.code == .invalidArgument
            fail(error.message, hint: hint(for: error.code))
            throw ExitCode(usage ? 2 : 1)
        }
    }

    static func hint(for code: AuditStoreError.Code) -> String {
        switch code {
        case .unavailable: "check --data or CALLVAULT_DATA, or the database's address, and that it is running"
        case .invalidArgument: "see `callvault audit list --help`"
        case .schemaTooNew: "upgrade callvault on this node"
        case .databaseFailure: "the database may be busy or damaged; retry, then run `callvault audit verify`"
        }
    }

    static func hint(for code: JobQueueError.Code) -> String {
        switch code {
        case .unavailable: "check the database's address and that it is running"
        case .notFound: "list job ids with `callvault jobs list`"
        case .invalidArgument: "see `callvault jobs list --state dead` for the jobs that can be retried"
        case .leaseLost: "another worker holds the job now; nothing to do"
        case .schemaTooNew: "upgrade callvault on this node"
        case .databaseFailure: "the database may be busy or damaged; retry"
        }
    }

    /// Prints `callvault: error: WHAT (HINT)` to stderr.
    static func fail(_ what: String, hint: String) {
        let line = "callvault: error: \(what) (\(hint))\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// A bad-usage error found by the command itself: printed, then exit 2.
    static func usageError(_ what: String, hint: String) -> ExitCode {
        fail(what, hint: hint)
        return ExitCode(2)
    }

    static func hint(for code: CatalogError.Code) -> String {
        switch code {
        case .unavailable: "check --data or CALLVAULT_DATA and the directory's permissions"
        case .notFound: "list ids with `callvault tenant list`, `calls list` or `recordings list`"
        case .duplicate: "choose another name, or use the existing one"
        case .invalidPolicy: "see `callvault tenant add --help` for the allowed values"
        case .invalidArgument: "see `callvault help` for the expected form"
        case .databaseFailure: "the catalog may be busy or damaged; retry, then run `callvault audit verify`"
        case .cryptoFailure: "OpenSSL failed; check the libssl installation"
        case .restricted:
            "give a reason with --override-reason (audited), or lift it: "
                + "`callvault recordings restrict ID --lift --reason TEXT`"
        }
    }

    /// Prints one JSON document (sorted keys, ISO 8601 dates) on stdout.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }

    /// A date as ISO 8601 for human output, the same form as in JSON.
    static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// Prints rows as left-aligned columns under a header.
    static func printTable(header: [String], rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        for row in [header] + rows {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
        }
    }
}
