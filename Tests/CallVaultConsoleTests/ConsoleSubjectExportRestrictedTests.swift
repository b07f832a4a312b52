import CallVaultConsole
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

/// The console's subject export with restricted recordings included: admin only, an override reason
/// required and audited as `callvault subject export --include-restricted --override-reason` audits it
/// (the same `SubjectExport`), the ZIP streamed from a file that is gone from the disk before it is sent.
@Suite(.timeLimit(.minutes(15))) struct ConsoleSubjectExportRestrictedTests {
    /// The caller's call with its caller-track recording restricted.
    static func restrictedCall(_ fixture: ConsoleFixture) throws -> (CallRecord, RecordingRecord) {
        let call = try ConsoleSubjectRequestsTests.callerCall(fixture)
        let recording = try #require(try fixture.data.catalog.recordings(inCalls: [call.id]).first { $0.track == .caller })
        try fixture.data.catalog.setRestricted(
            recordingID: recording.id, true, reason: "disputed by the caller", actor: "test", at: Date())
        return (call, recording)
    }

    /// The manifest's status of recording `id` (`included`, `restricted`, …) and its override flag, read from
    /// the ZIP's `manifest.json` (stored, not compressed: the central directory gives its place).
    static func manifestStatus(of id: String, in zip: [UInt8]) throws -> (status: String?, overridden: Bool?) {
        func u16(_ at: Int) -> Int { Int(zip[at]) | Int(zip[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        let end = try #require(stride(from: zip.count - 22, through: 0, by: -1).first { u32($0) == 0x0605_4B50 })
        var at = u32(end + 16)
        for _ in 0..<u16(end + 10) {
            let nameLength = u16(at + 28)
            let name = String(decoding: zip[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            if name == "manifest.json" {
                let (size, local) = (u32(at + 20), u32(at + 42))
                let start = local + 30 + u16(local + 26) + u16(local + 28)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(zip[start..<(start + size)])) as? [String: Any])
                for call in json["calls"] as? [[String: Any]] ?? [] {
                    for recording in call["recordings"] as? [[String: Any]] ?? [] where recording["id"] as? String == id {
                        return (recording["status"] as? String, recording["restrictionOverridden"] as? Bool)
                    }
                }
                return (nil, nil)
            }
            at += 46 + nameLength + u16(at + 30) + u16(at + 32)
        }
        return (nil, nil)
    }

    /// Whether the temporary folder holds no subject export's folder, looking again for up to 5 s: other tests
    /// export at the same time, and each of their folders lives for the length of an export.
    static func noExportFolderLeft() async throws -> Bool {
        for _ in 0..<50 {
            let left = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
            if !left.contains(where: { $0.hasPrefix("callvault-subject-") }) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func restrictedRecordingsNeedAReasonAndAreIncludedAuditedWithIt() async throws {
        let log = CapturedLog()
        let fixture = try ConsoleFixture("console-subject-restricted", logger: log.logger())
        let (call, restricted) = try Self.restrictedCall(fixture)
        let (_, cookies) = await fixture.signIn("ada")
        let found = await ConsoleSubjectRequestsTests.lookUp(fixture, cookies: cookies)
        let page = ConsoleFixture.text(found)
        #expect(page.contains("name=\"restricted\"") && page.contains("name=\"override\"") && page.contains("(1 here)"))
        let csrf = await fixture.csrf(cookies)

        // Without a reason: refused, nothing decrypted or exported.
        for reason in [nil, "", "   "] as [String?] {
            var form = ["csrf": csrf, "restricted": "1"]
            if let reason { form["override"] = reason }
            let refused = await fixture.post("/subjects/export", form: form, cookies: cookies)
            #expect(refused.status == 400 && refused.file == nil)
            #expect(ConsoleFixture.text(refused).contains("say why in the override reason"))
        }
        let tooLong = await fixture.post(
            "/subjects/export", form: ["csrf": csrf, "restricted": "1", "override": String(repeating: "x", count: 501)],
            cookies: cookies)
        #expect(tooLong.status == 400)
        var entries = try await fixture.data.catalog.audit.entries()
        #expect(!entries.contains { [.subjectExported, .recordingDecrypted, .restrictionOverridden].contains($0.action) })

        // Without the option: the restricted recording is left out.
        let plain = await fixture.post("/subjects/export", form: ["csrf": csrf], cookies: cookies)
        #expect(plain.status == 200)
        let plainStatus = try Self.manifestStatus(of: restricted.id, in: try #require(plain.file).readAll())
        #expect(plainStatus.status == "restricted", "\(plainStatus)")

        // With a reason: included, and the override audited with it, as the CLI does.
        let reason = "subject access request #4711, restriction does not cover the subject"
        let export = await fixture.post(
            "/subjects/export", form: ["csrf": csrf, "restricted": "1", "override": reason], cookies: cookies)
        #expect(export.status == 200, "\(ConsoleFixture.text(export))")
        // Gone from the disk already; the body is read from the open descriptor.
        #expect(try await Self.noExportFolderLeft(), "the file is unlinked before the response is sent")
        let file = try #require(export.file)
        let zip = try file.readAll()
        #expect(zip.count == file.count)
        #expect(ConsoleSubjectRequestsTests.zipEntryNames(zip).contains("calls/\(call.id)/audio.wav"))
        let status = try Self.manifestStatus(of: restricted.id, in: zip)
        #expect(status.status == "included" && status.overridden == true, "\(status)")
        entries = try await fixture.data.catalog.audit.entries()
        let overrides = entries.filter { $0.action == .restrictionOverridden }
        #expect(overrides.count == 1)
        #expect(overrides.first?.subjectId == restricted.id && overrides.first?.actor == "console:ada")
        #expect(overrides.first?.detailValues["reason"] == reason)
        #expect(overrides.first?.detailValues["purpose"] == "subject export")
        let exported = try #require(entries.last { $0.action == .subjectExported })
        #expect(exported.actor == "console:ada")
        #expect(!entries.contains { ConsoleSubjectRequestsTests.leaks($0.details) })
        #expect(!log.all.contains { ConsoleSubjectRequestsTests.leaks($0) })
        #expect(try await Self.noExportFolderLeft(), "no plaintext file left behind")
    }

    @Test func onlyAnAdministratorMayIncludeRestrictedRecordings() async throws {
        let fixture = try ConsoleFixture("console-subject-restricted-roles")
        _ = try Self.restrictedCall(fixture)
        for name in ["victor", "alice"] {
            let (_, cookies) = await fixture.signIn(name)
            let refused = await fixture.post(
                "/subjects/export", form: ["csrf": await fixture.csrf(cookies), "restricted": "1", "override": "because"],
                cookies: cookies)
            #expect(refused.status == 403, "\(name)")
        }
        #expect(try await fixture.data.catalog.audit.entries().allSatisfy { $0.action != .restrictionOverridden })
    }

    /// Over a real socket the ZIP arrives whole, with its length, from the streamed file (several chunks).
    @Test func theExportIsStreamedOverTheSocket() async throws {
        let fixture = try ConsoleFixture("console-subject-stream")
        let keys = try fixture.data.keyStore.callerKeys(tenantID: fixture.tenantA.id)
        let call = try fixture.data.catalog.registerCall(
            tenantID: fixture.tenantA.id, externalID: "CA-subject", callerNumber: ConsoleSubjectRequestsTests.number,
            startedAt: Date(), actor: "test", callerKeys: keys)
        try ConsolePlaybackTests.record(call, in: fixture, frames: 500)  // 10 s: a stereo WAV of 320 kB
        let (_, cookies) = await fixture.signIn("ada")
        #expect(await ConsoleSubjectRequestsTests.lookUp(fixture, cookies: cookies).status == 200)
        let csrf = await fixture.csrf(cookies)
        let session = "Cookie: cv_session=\(cookies["cv_session"] ?? "")"
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString).zip").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        try await ConsoleServerTests.serving(fixture) { url in
            // Two requests on one connection: the export, then a page (keep-alive after a streamed body).
            let run = try await offCooperativePool { try ChildProcess.run(
                URL(fileURLWithPath: "/usr/bin/curl"),
                [
                    // --fail-early: a first transfer that fails (or times out on a loaded machine) is the exit
                    // status, not hidden behind the second one's success.
                    "--fail-early", "-sS", "--max-time", "60", "-D", "-", "-H", session, "-o", out, "--data", "csrf=\(csrf)",
                    url + "/subjects/export", "--next", "-sS", "-D", "-", "-o", "/dev/null", "-H", session, url + "/audit",
                ],
                timeout: .seconds(90)) }
            try #require(run.status == 0, "curl: \(run.stderr)")
            let heads = run.stdout.components(separatedBy: "HTTP/1.1 ").dropFirst()
            #expect(heads.map { $0.prefix(3) } == ["200", "200"], "\(run.stdout)")
            let length = try #require(ConsoleServerTests.header("content-length", in: "HTTP/1.1 " + (heads.first ?? "")).first.flatMap { Int($0) })
            let zip = try [UInt8](Data(contentsOf: URL(fileURLWithPath: out)))
            #expect(zip.count == length && length > 4 * ConsoleFileBody.chunkBytes, "several chunks, all of them")
            #expect(ConsoleSubjectRequestsTests.zipEntryNames(zip).contains { $0.hasPrefix("calls/\(call.id)/") })
        }
        #expect(try await Self.noExportFolderLeft(), "no plaintext file left behind")
    }
}
