import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An OpenBao dev server (`bao server -dev`: in memory, unsealed) on 127.0.0.1, for the Transit key
/// provider's tests: a free port, a random root token, the Transit engine at `transit/` with
/// `disable_upsert` on (as `scripts/services start` sets it up).
///
/// The `bao` binary is the one `scripts/services install` puts in
/// `${XDG_CACHE_HOME:-~/.cache}/callvault/openbao/bin/bao` (or `$CALLVAULT_BAO`). The root token goes to
/// the server through its environment, never its command line. The server is killed when this object
/// is released, if the test did not stop it.
public final class OpenBaoServer: Sendable {
    /// `http://127.0.0.1:PORT`, or `https://` with ``tls``.
    public let url: String
    public let port: UInt16
    /// The dev server's root token.
    public let token: String
    /// The PEM file of the CA that signed a TLS server's certificate (nil without TLS).
    public let caCertificateFile: String?
    private let process: ChildProcess
    private let directory: TemporaryDirectory

    /// What to tell someone who has no `bao`.
    public static let installHint =
        "OpenBao is not installed: run `scripts/services install` (it puts the bao binary in "
        + "~/.cache/callvault/openbao/bin), or set CALLVAULT_SKIP_SERVICES=1 to skip the tests that need it"

    /// The `bao` binary to run, or nil when it is not installed.
    public static var binary: String? {
        let environment = ProcessInfo.processInfo.environment
        let cache =
            environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? NSHomeDirectory() + "/.cache"
        let path = environment["CALLVAULT_BAO"] ?? cache + "/callvault/openbao/bin/bao"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Starts a dev server and enables Transit; throws ``installHint`` when there is no `bao`.
    /// - Parameter tls: serve HTTPS with a certificate from a fresh CA (`-dev-tls`), for 127.0.0.1.
    public init(tls: Bool = false) throws {
        guard let binary = Self.binary else { throw ChildProcessError(Self.installHint) }
        let directory = try TemporaryDirectory("openbao")
        var token = ""
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<16 { token += String(format: "%02x", generator.next() as UInt8) }
        var started: (ChildProcess, UInt16)?
        var lastFailure = ""
        for _ in 0..<3 {
            // The dev server puts its cluster listener on the port after the API port: both must be free.
            let port = try Self.freePortPair()
            var arguments = ["server", "-dev", "-dev-no-store-token", "-dev-listen-address=127.0.0.1:\(port)"]
            if tls { arguments += ["-dev-tls", "-dev-tls-cert-dir=\(directory.path)"] }
            let process = try ChildProcess(
                URL(fileURLWithPath: binary),
                arguments,
                environment: ["BAO_DEV_ROOT_TOKEN_ID": token],
                currentDirectory: directory.path
            )
            do {
                _ = try process.waitForLine("OpenBao to start", timeout: .seconds(60)) {
                    $0.contains("OpenBao server started")
                }
                started = (process, port)
                break
            } catch {
                lastFailure = "\(error)"
                _ = try? process.stop(SIGKILL, timeout: .seconds(10))
                if !lastFailure.contains("address already in use") { break }
            }
        }
        guard let (process, port) = started else {
            throw ChildProcessError("bao server -dev did not start: \(lastFailure)")
        }
        self.process = process
        self.port = port
        self.token = token
        self.directory = directory
        self.url = "\(tls ? "https" : "http")://127.0.0.1:\(port)"
        self.caCertificateFile = tls ? directory.appending("vault-ca.pem") : nil
        try bao(["secrets", "enable", "transit"])
        try bao(["write", "transit/config/keys", "disable_upsert=true"])
    }

    deinit {
        _ = try? process.stop(SIGKILL, timeout: .seconds(10))
    }

    /// Whether the server is running.
    public var isRunning: Bool { process.isRunning }

    /// Kills the server at once (`kill -9`), as a crash or a pulled cable would; waits for its exit.
    public func kill() throws {
        try process.stop(SIGKILL, timeout: .seconds(10))
    }

    /// Stops the server without ending it (`SIGSTOP`): it accepts connections and answers nothing, as a
    /// hung or partitioned server would, until ``resume()``.
    public func pause() { process.send(SIGSTOP) }

    /// Lets a paused server run again (`SIGCONT`).
    public func resume() { process.send(SIGCONT) }

    /// Runs the `bao` command line against this server (`BAO_ADDR`, `BAO_TOKEN` in its environment).
    @discardableResult
    public func bao(_ arguments: [String]) throws -> ChildProcess.Output {
        guard let binary = Self.binary else { throw ChildProcessError(Self.installHint) }
        var environment = ["BAO_ADDR": url, "BAO_TOKEN": token]
        if let caCertificateFile { environment["BAO_CACERT"] = caCertificateFile }
        let output = try ChildProcess.run(
            URL(fileURLWithPath: binary),
            arguments,
            environment: environment,
            currentDirectory: directory.path,
            timeout: .seconds(60)
        )
        guard output.status == 0, !output.signalled else {
            throw ChildProcessError("bao \(arguments.joined(separator: " ")) failed: \(output.stderr)\(output.stdout)")
        }
        return output
    }

    /// A port P on 127.0.0.1 such that P and P+1 are both free now.
    private static func freePortPair() throws -> UInt16 {
        for _ in 0..<50 {
            let first = try UnusedPort()
            guard first.port < UInt16.max, canBind(first.port + 1) else { continue }
            return first.port
        }
        throw ChildProcessError("no pair of free ports on 127.0.0.1")
    }

    private static func canBind(_ port: UInt16) -> Bool {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
