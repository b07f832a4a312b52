import ArgumentParser
import CallVaultModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error the CLI reports as one stderr line, `callvault: error: WHAT (HINT)`, and an exit status.
///
/// The contract (CLI.md) is the same for every command: exit 1 for a failed check or operation, 2 for
/// bad usage, and nothing on stdout, so that scripts can rely on `--json` output being the only stdout.
struct CLIError: Error, Equatable, CustomStringConvertible {
    /// What went wrong, naming the file or id involved (never key bytes, audio or phone numbers).
    var what: String
    /// What to do about it; omitted from the line when nil.
    var hint: String?
    /// 1 for a failed operation, 2 for bad usage.
    var exitCode: Int32

    init(what: String, hint: String?, exitCode: Int32) {
        self.what = what
        self.hint = hint
        self.exitCode = exitCode
    }

    /// A failed operation or check (exit 1).
    static func failure(_ what: String, hint: String? = nil) -> CLIError {
        CLIError(what: what, hint: hint, exitCode: 1)
    }

    /// Bad usage (exit 2).
    static func usage(_ what: String, hint: String? = "see `callvault help`") -> CLIError {
        CLIError(what: what, hint: hint, exitCode: 2)
    }

    /// A key-store error as a CLI failure, with a hint chosen by its code.
    init(_ error: KeyStoreError) {
        let hint: String? =
            switch error.code {
            case .rootKeyMissing, .directoryMissing: "run `callvault init` for this --data directory first"
            case .rootKeyInsecure, .rootKeyCorrupt, .directoryInsecure:
                "CallVault never replaces or loosens a root key itself; fix it as described"
            case .ioFailed: "check the path exists and this user may write it"
            case .databaseFailed: "check the disk is not full and keys.sqlite is not damaged"
            case .checkpointBlocked: "another callvault process holds a read; run the command again"
            case .invalidIdentifier, .invalidDay: "see `callvault help`"
            default: nil
            }
        self.init(what: error.message, hint: hint, exitCode: 1)
    }

    /// The line printed on stderr.
    var line: String {
        if let hint { return "callvault: error: \(what) (\(hint))" }
        return "callvault: error: \(what)"
    }

    var description: String { line }

    /// Reports any error thrown by parsing or by a command the CLI.md way, and exits.
    ///
    /// Help and `--version` go to stdout with status 0; ArgumentParser's usage errors become one line
    /// with status 2; `ExitCode`s thrown by commands that already reported pass through unchanged.
    static func exitReporting(_ error: any Error) -> Never {
        let report: CLIError
        switch error {
        case let error as CLIError:
            report = error
        case let error as KeyStoreError:
            report = CLIError(error)
        case let error as ExitCode:
            exit(error.rawValue)
        default:
            let code = CallVaultCommand.exitCode(for: error)
            if code == .success {
                print(CallVaultCommand.fullMessage(for: error))
                exit(0)
            }
            let message =
                CallVaultCommand.message(for: error)
                .split(separator: "\n").first.map(String.init) ?? "\(error)"
            let what = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
            report = code == .validationFailure ? .usage(what) : .failure(what)
        }
        writeToStandardError(report.line + "\n")
        exit(report.exitCode)
    }

    /// Writes to stderr unbuffered, so the line is out before `exit`.
    static func writeToStandardError(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { return }
            offset += n
        }
    }
}
