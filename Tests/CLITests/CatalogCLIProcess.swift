import CallVaultTestSupport
import Foundation

/// Runs the built `callvault` executable in a child process with its own data directory, the way
/// an operator or a script does, and captures its exit code, stdout and stderr.
struct CatalogCLIProcess {
    typealias Result = ChildProcess.Output

    /// The `callvault` binary beside the test bundle (SwiftPM builds both into the same folder).
    static func executable() -> URL? { Repository.callvault }

    let executable: URL
    let dataDirectory: String

    /// Runs one command to completion (killed, failing the test with its output, after `timeout`).
    /// - Parameter directory: the working directory (default: the tests').
    func run(_ arguments: [String], in directory: String? = nil, timeout: Duration = .seconds(300)) throws -> Result {
        try ChildProcess.run(
            executable,
            arguments,
            environment: ["CALLVAULT_DATA": dataDirectory],
            currentDirectory: directory,
            timeout: timeout
        )
    }
}
