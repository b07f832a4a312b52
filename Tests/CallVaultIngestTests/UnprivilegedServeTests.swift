import CallVaultTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `serve` and `simulate` as a service account runs them: without `CAP_NET_ADMIN`. Every other test
/// here runs as root, which hid that accepted sockets were given `SO_DEBUG` (a socket-level option
/// named where `TCP_NODELAY` was meant): the kernel refuses it without that capability, and every
/// connection was reset. As root the test drops the capability with `setpriv` (util-linux).
@Suite("serve without privileges", .serialized, .timeLimit(.minutes(15)))
struct UnprivilegedServeTests {
    private static var withoutNetworkAdministration: [String] {
        geteuid() == 0 ? ["/usr/bin/setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-net_admin", "--"] : []
    }

    @Test func callsOverHTTPWebSocketAndAudioSocketAreRecordedWithoutCapNetAdmin() throws {
        let under = Self.withoutNetworkAdministration
        if let setpriv = under.first {
            #expect(FileManager.default.isExecutableFile(atPath: setpriv), "setpriv (util-linux) is needed to drop CAP_NET_ADMIN")
        }
        let (root, data, token) = try ServeEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServeProcess(data: data, audioSocket: true, under: under)
        defer { server.terminate() }

        // HTTP on the ingest port: a call registered for AudioSocket.
        let uuid = UUID()
        let control = try TestSocketClient(port: server.port)
        let registered = control.http(
            "POST", "/v1/calls", headers: ["Authorization": "Bearer \(token)"],
            body: #"{"callId":"\#(uuid.uuidString.lowercased())"}"#)
        #expect(registered?.status == 201)

        // AudioSocket: 1 s before the consent key, 1 s after.
        let asterisk = try TestSocketClient(port: try #require(server.audioSocketPort))
        var stream: [UInt8] = [0x01, 0x00, 0x10] + withUnsafeBytes(of: uuid.uuid) { Array($0) }
        for frame in 0..<100 {
            if frame == 50 { stream += [0x03, 0x00, 0x01, UInt8(ascii: "1")] }
            stream += [0x10, 0x01, 0x40] + [UInt8](repeating: UInt8(frame & 0x7F), count: 320)
        }
        asterisk.send(stream + [0x00, 0x00, 0x00])

        // WebSocket, from `simulate` run the same way (its client sockets had the same option).
        let executable = try #require(Repository.callvault, "callvault not built")
        let arguments = [
            "simulate", "--url", "ws://127.0.0.1:\(server.port)/v1/twilio", "--token", token, "--file",
            Repository.samples + "/disclosure.ulaw.wav", "--calls", "1", "--consent-at", "2", "--json",
        ]
        let simulated = try ChildProcess.run(
            under.first.map(URL.init(fileURLWithPath:)) ?? executable,
            Array(under.dropFirst()) + (under.isEmpty ? [] : [executable.path]) + arguments,
            timeout: .seconds(120))
        #expect(simulated.status == 0, "\(simulated.stdout)")
        #expect(simulated.stdout.contains("\"errors\" : \"0\""), "\(simulated.stdout)")

        try ServeEndToEndTests.waitUntilRecorded(2, data: data)
        #expect(try server.stop() == 0)
        let durations = try ServeEndToEndTests.recordings(data: data).compactMap { $0["durationMs"] as? Int }.sorted()
        #expect(durations.count == 2)
        #expect(durations.first == 1000, "AudioSocket: the second after the key, \(durations)")
    }
}
