import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `callvault serve` as a child process on 127.0.0.1.
///
/// It binds port 0 (any free port) unless told a port, and the test reads the ports it bound from its
/// `listening http=HOST:PORT audiosocket=HOST:PORT` line: no free port guessed, released and raced for.
final class ServeProcess {
    let child: ChildProcess
    /// The HTTP and WebSocket port.
    let port: Int
    /// The AudioSocket port, if it listens for AudioSocket.
    let audioSocketPort: Int?
    /// The operator console's port, when it serves one (`--console` in `extra`).
    let consolePort: Int?
    /// The SIP ports by transport (`udp`, `tcp`, `tls`), when it listens for SIP (`--sip` in `extra`).
    let sipPorts: [String: Int]

    /// Starts `callvault serve` on `data` and waits until it listens.
    /// - Parameters:
    ///   - port: 0 for a free port; a port an earlier server had, to restart on it.
    ///   - audioSocket: whether to listen for AudioSocket too (on a free port).
    ///   - under: a command that runs it (`setpriv … --`), or none.
    init(
        data: String, port: Int = 0, audioSocket: Bool = false, extra: [String] = [], environment: [String: String] = [:],
        under: [String] = []
    ) throws {
        let executable = try #require(Repository.callvault, "callvault not built")
        let arguments =
            ["serve", "--http", "127.0.0.1:\(port)", "--data", data, "--flush-interval-ms", "100"]
            + (audioSocket ? ["--audiosocket", "127.0.0.1:0"] : []) + extra
        child = try ChildProcess(
            under.first.map(URL.init(fileURLWithPath:)) ?? executable,
            Array(under.dropFirst()) + (under.isEmpty ? [] : [executable.path]) + arguments,
            environment: environment
        )
        let line = try child.waitForLine("its `listening` line", timeout: .seconds(60)) { $0.hasPrefix("listening ") }
        var ports: [Substring: Int] = [:]
        var sip: [String: Int] = [:]
        for field in line.split(separator: " ").dropFirst() {
            guard let equals = field.firstIndex(of: "="), let colon = field.lastIndex(of: ":") else { continue }
            if field.hasPrefix("sip=") {
                sip[String(field.dropFirst(4).prefix(3))] = Int(field[field.index(after: colon)...])
                continue
            }
            ports[field[..<equals]] = Int(field[field.index(after: colon)...])
        }
        sipPorts = sip
        self.port = try #require(ports["http"], "no http port in '\(line)'")
        audioSocketPort = ports["audiosocket"]
        consolePort = ports["console"]
        #expect(audioSocket == (audioSocketPort != nil), "'\(line)'")
    }

    /// Asks it to stop (SIGTERM) without waiting: the clean-up of a test that failed before `stop()`.
    func terminate() { child.send(SIGTERM) }

    /// Stops it with SIGTERM (graceful shutdown); returns its exit status. Throws, with its output, if
    /// it is still running after 30 s.
    @discardableResult
    func stop() throws -> Int32 { try child.stop(SIGTERM, timeout: .seconds(30)).status }

    /// Kills it with SIGKILL (a crash) and waits until it is gone.
    func kill() throws { try child.stop(SIGKILL) }

    /// Waits until `/healthz` counts `count` calls in progress: the streams that sent `start` were admitted
    /// (or the ones that ended released their place), so what the test sends next meets that state.
    func waitForActiveCalls(_ count: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var active: Int?
        let reached = try poll(timeout: .seconds(10)) {
            let body = try TestSocketClient(port: port).http("GET", "/healthz")?.body ?? ""
            let health = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            active = health?["activeCalls"] as? Int
            return active == count
        }
        #expect(
            reached,
            "\(count) active call(s) expected, /healthz says \(active.map(String.init) ?? "?")",
            sourceLocation: sourceLocation
        )
    }
}

extension ServeEndToEndTests {
    /// The catalog of a data directory, opened beside a running server (SQLite takes a second reader).
    static func catalog(data: String) throws -> Catalog {
        try Catalog(path: DataDirectory(path: data).catalogPath)
    }

    /// Waits until `count` recordings exist and none is still `recording`: the server sealed and closed them.
    static func waitUntilRecorded(_ count: Int, data: String) throws {
        let catalog = try catalog(data: data)
        let recorded = try poll(timeout: .seconds(20)) {
            let recordings = try catalog.recordingSummaries()
            return recordings.count == count && recordings.allSatisfy { $0.state != .recording }
        }
        let states = try catalog.recordingSummaries().map(\.state)
        #expect(recorded, "\(count) recording(s) finished: \(states)")
    }
}
