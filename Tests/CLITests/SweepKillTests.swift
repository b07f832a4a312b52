import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `callvault sweep` killed with SIGKILL at many points, then run again: it must finish the job and
/// never leave a row marked shredded whose key or file survives.
@Suite(.timeLimit(.minutes(15))) struct SweepKillTests {
    @Test func aSweepKilledAtAnyPointIsFinishedByTheNextAndNeverLiesInBetween() throws {
        let root = try TemporaryDirectory.make("sweepkill")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let executable = try #require(CatalogCLIProcess.executable(), "the callvault binary was not built")
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: root + "/data")
        #expect(try cli.run(["init"]).status == 0)
        let tenantID = try #require(try cli.run(["tenant", "add", "acme", "--voice-days", "1", "--json"]).json()["id"] as? String)

        let count = 1_500
        // 1,500 recordings made 3 to 5 days ago over 3 expiry days (so day keys go as well as single keys).
        let directory = DataDirectory(path: root + "/data")
        let keyStore = try KeyStore(dataDirectory: directory, logger: Logger(label: "test"))
        try keyStore.ensureTenant(tenantID)
        let catalog = try Catalog(path: directory.catalogPath)
        try FileManager.default.createDirectory(atPath: directory.path + "/recordings", withIntermediateDirectories: true)
        var files: [String: String] = [:]
        let segment = [UInt8](repeating: 7, count: 4_000)
        for index in 0..<count {
            let createdAt = Date().addingTimeInterval(-Double(3 + index % 3) * 86_400)
            let call = try catalog.registerCall(tenantID: tenantID, externalID: "CA-\(index)", startedAt: createdAt)
            let id = UUID().uuidString.lowercased()
            let relative = "recordings/\(id).cvr"
            let recording = try catalog.createRecording(
                id: id, callID: call.id, track: .caller, codec: .pcm16, sampleRate: 8000, path: relative, createdAt: createdAt)
            let expiresOn = CalendarDay(secondsSince1970: Int64(recording.expiresAt.timeIntervalSince1970))
            let key = try keyStore.newDataKey(tenantID: tenantID, ownerID: id, kind: .voice, expiresOn: expiresOn)
            let writer = try SealedFileWriter(
                path: directory.path + "/" + relative, dataKey: key.key,
                metadata: SealedFileMetadata(
                    kind: .voice, tenantID: tenantID, recordingID: id, keyID: key.keyID, codec: .pcm16, sampleRate: 8000,
                    createdAtMs: Int64(createdAt.timeIntervalSince1970 * 1000)))
            try segment.withUnsafeBytes { try writer.append($0, last: true) }
            try writer.close()
            try catalog.finishRecording(id: id, state: .complete, durationMs: 250, bytes: 4_000)
            files[id] = directory.path + "/" + relative
        }

        /// No row may say `shredded` while its key or file is still there.
        func checkInvariant(_ when: String) throws -> (shredded: Int, keysGone: Int) {
            var shredded = 0
            var keysGone = 0
            for id in files.keys {
                let recording = try catalog.recording(id: id)
                let status = try keyStore.dataKeyStatus(ownerID: recording.id, tenantID: tenantID)
                let keyGone = if case .shredded = status { true } else { false }
                if keyGone { keysGone += 1 }
                if recording.state == .shredded {
                    shredded += 1
                    #expect(keyGone, "\(when): recording \(recording.id) marked shredded with a live key")
                    #expect(!FileManager.default.fileExists(atPath: files[recording.id] ?? ""), "\(when): file left")
                }
            }
            return (shredded, keysGone)
        }

        // Kill a sweep at increasing delays: before it starts, in the middle of its steps, after it ended.
        var interrupted = 0
        for delayMs in stride(from: 40, through: 1_200, by: 40) {
            let sweep = try ChildProcess(executable, ["sweep", "--once", "--data", directory.path])
            usleep(useconds_t(delayMs * 1000))  // the point to kill it at, not a wait for something
            try sweep.stop(SIGKILL)
            let state = try checkInvariant("after a kill at \(delayMs) ms")
            if state.keysGone > 0 && state.shredded < count { interrupted += 1 }
            if state.shredded == count { break }
        }
        print("sweep kill test: \(interrupted) kill(s) landed between the first key destroyed and the last row marked")

        let finish = try cli.run(["sweep", "--once", "--json"])
        #expect(finish.status == 0, "\(finish.stderr)")
        let final = try checkInvariant("after the final sweep")
        #expect(final.shredded == count && final.keysGone == count)
        #expect(files.values.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
        let again = try cli.run(["sweep", "--once", "--json"])
        let left = try again.json()["recordingsShredded"] as? [Any]
        #expect(left?.isEmpty == true, "nothing left to do")
        let audit = try cli.run(["audit", "verify"])
        #expect(audit.status == 0, "the audit chain survived the kills: \(audit.stdout) \(audit.stderr)")
    }
}
