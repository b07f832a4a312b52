import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TLS connection to 127.0.0.1 made by `openssl s_client` (Debian's OpenSSL, an independent TLS client),
/// optionally presenting a client certificate, with a ``TestSocketClient`` on the plain side: the raw HTTP
/// and WebSocket helpers then speak WSS. s_client's stdin and stdout are one end of a socketpair; `-quiet`
/// keeps its own output off it and turns off its interactive commands.
final class TestTLSTunnel {
    let process = Process()
    let client: TestSocketClient

    init(port: Int, certificate: (certificate: String, key: String)? = nil) throws {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { throw POSIXError(.EMFILE) }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments =
            ["s_client", "-connect", "127.0.0.1:\(port)", "-quiet"]
            + (certificate.map { ["-cert", $0.certificate, "-key", $0.key] } ?? [])
        let tunnelEnd = FileHandle(fileDescriptor: pair[1], closeOnDealloc: true)
        process.standardInput = tunnelEnd
        process.standardOutput = tunnelEnd
        process.standardError = FileHandle.nullDevice
        try process.run()
        try tunnelEnd.close()  // the child holds its copies
        client = TestSocketClient(connected: pair[0], readTimeout: 10)
    }

    deinit {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
