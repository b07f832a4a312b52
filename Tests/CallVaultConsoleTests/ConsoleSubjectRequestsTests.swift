import CallVaultConsole
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

/// Data-subject requests: an administrator finds a caller's calls by the number (through the tenant's
/// keyed hash), downloads the export ZIP and erases after typing back a code, each audited with the
/// operator; the number never reaches a URL, a page, the log or the audit log.
@Suite struct ConsoleSubjectRequestsTests {
    static let number = "+44 20 7946 0000"
    /// What must never show: the digits in any spacing the number might be written back.
    static let secrets = ["7946 0000", "79460000", "442079460000"]

    /// A call in tenant A from ``number``, recorded on both tracks.
    static func callerCall(_ fixture: ConsoleFixture) throws -> CallRecord {
        let keys = try fixture.data.keyStore.callerKeys(tenantID: fixture.tenantA.id)
        let call = try fixture.data.catalog.registerCall(
            tenantID: fixture.tenantA.id, externalID: "CA-subject", callerNumber: number, startedAt: Date(), actor: "test",
            callerKeys: keys)
        try ConsolePlaybackTests.record(call, in: fixture)
        return call
    }

    static func lookUp(_ fixture: ConsoleFixture, cookies: [String: String], tenant: String? = nil) async -> ConsoleResponse {
        await fixture.post(
            "/subjects", form: ["csrf": await fixture.csrf(cookies), "tenant": tenant ?? fixture.tenantA.id, "phone": number],
            cookies: cookies)
    }

    static func leaks(_ text: String) -> Bool { secrets.contains { text.contains($0) } }

    @Test func anAdminFindsTheCallersCallsAndDownloadsTheExportAudited() async throws {
        let log = CapturedLog()
        let fixture = try ConsoleFixture("console-subject-export", logger: log.logger())
        let call = try Self.callerCall(fixture)
        let (_, cookies) = await fixture.signIn("ada")
        let form = await fixture.get("/subjects", cookies: cookies)
        #expect(form.status == 200 && ConsoleFixture.text(form).contains("<label for=\"s-phone\">"))
        #expect(ConsoleFixture.text(await fixture.get("/calls", cookies: cookies)).contains("href=\"/subjects\""), "in the navigation")
        let found = await Self.lookUp(fixture, cookies: cookies)
        let page = ConsoleFixture.text(found)
        #expect(found.status == 200, "\(page)")
        #expect(page.contains(call.id) && !page.contains(fixture.callA.id), "only the caller's call")
        #expect(page.contains("2 (complete 2)"), "its two recordings and their state")
        #expect(!Self.leaks(page), "the number is not echoed")
        let missing = await fixture.post("/subjects/export", form: [:], cookies: cookies)
        #expect(missing.status == 403, "no CSRF token")

        let export = await fixture.post("/subjects/export", form: ["csrf": await fixture.csrf(cookies)], cookies: cookies)
        #expect(export.status == 200, "\(ConsoleFixture.text(export))")
        #expect(export.header("content-type") == "application/zip")
        let disposition = try #require(export.header("content-disposition"))
        #expect(disposition.hasPrefix("attachment; filename=\"EXPORT-"))
        // The ZIP is streamed from its (already unlinked) file, not held in the response.
        #expect(export.body.isEmpty)
        let zip = try #require(export.file).readAll()
        #expect(Array(zip.prefix(4)) == [0x50, 0x4B, 0x03, 0x04], "a ZIP")
        let names = Self.zipEntryNames(zip)
        #expect(names.contains("manifest.json"))
        #expect(names.contains { $0.hasPrefix("calls/\(call.id)/") && $0.hasSuffix(".wav") }, "\(names)")
        #expect(!names.contains { $0.contains(fixture.callA.id) })
        let entries = try await fixture.data.catalog.audit.entries()
        let exported = try #require(entries.first { $0.action == .subjectExported })
        #expect(exported.actor == "console:ada" && exported.tenantId == fixture.tenantA.id)
        #expect(entries.filter { $0.action == .recordingDecrypted }.allSatisfy { $0.actor == "console:ada" })
        #expect(!entries.contains { Self.leaks($0.details) })
        #expect(try await ConsoleSubjectExportRestrictedTests.noExportFolderLeft(), "no plaintext file left behind")
        #expect(!log.all.contains { Self.leaks($0) })
    }

    @Test func erasureNeedsTheTypedCodeThenShredsTheCallersRecordings() async throws {
        let log = CapturedLog()
        let fixture = try ConsoleFixture("console-subject-erase", logger: log.logger())
        let call = try Self.callerCall(fixture)
        let (_, cookies) = await fixture.signIn("ada")
        #expect(await Self.lookUp(fixture, cookies: cookies).status == 200)
        let csrf = await fixture.csrf(cookies)
        let asked = await fixture.post("/subjects/erase", form: ["csrf": csrf], cookies: cookies)
        #expect(asked.status == 200)
        let askedText = ConsoleFixture.text(asked)
        #expect(askedText.contains("2 recording(s)") && askedText.contains("<label for=\"e-code\">"))
        let code = try #require(Self.code(asked))
        let wrong = await fixture.post("/subjects/erase", form: ["csrf": csrf, "confirmation": "AAAA-AAAA"], cookies: cookies)
        #expect(wrong.status == 400 && ConsoleFixture.text(wrong).contains("nothing was erased"))
        let recordings = try fixture.data.catalog.recordings(inCalls: [call.id])
        #expect(recordings.count == 2 && recordings.allSatisfy { $0.state == .complete }, "a wrong code changes nothing")
        #expect(try await fixture.data.catalog.audit.entries().allSatisfy { $0.action != .subjectErased })
        // The first code was replaced by the one on the refusal page (each refusal shows a new one).
        var second = try #require(Self.code(wrong))
        if second != code {
            let stale = await fixture.post("/subjects/erase", form: ["csrf": csrf, "confirmation": code], cookies: cookies)
            #expect(stale.status == 400)
            second = try #require(Self.code(stale))
        }
        let done = await fixture.post(
            "/subjects/erase", form: ["csrf": csrf, "confirmation": second.lowercased()], cookies: cookies)
        let doneText = ConsoleFixture.text(done)
        #expect(done.status == 200, "\(doneText)")
        #expect(doneText.contains("2 recording(s)") && doneText.contains("ERASE-"))
        for recording in try fixture.data.catalog.recordings(inCalls: [call.id]) {
            #expect(recording.state == .shredded)
            if case .shredded(_, let reason) = try fixture.data.keyStore.dataKeyStatus(ownerID: recording.id, tenantID: fixture.tenantA.id) {
                #expect(reason == .erased)
            } else {
                Issue.record("an erased recording's key is not destroyed")
            }
        }
        let erased = try #require(try await fixture.data.catalog.audit.entries().first { $0.action == .subjectErased })
        #expect(erased.actor == "console:ada" && doneText.contains(erased.subjectId ?? "?"))
        // The code is single-use and the lookup is gone.
        let again = await fixture.post("/subjects/erase", form: ["csrf": csrf, "confirmation": second], cookies: cookies)
        #expect(again.status == 409)
        #expect(!log.all.contains { Self.leaks($0) })
        #expect(!Self.leaks(doneText) && !Self.leaks(askedText))
    }

    @Test func viewersAgentsOtherTenantsAndForgedFormsAreRefused() async throws {
        let fixture = try ConsoleFixture("console-subject-refused")
        let call = try Self.callerCall(fixture)
        for name in ["victor", "alice"] {
            let (_, cookies) = await fixture.signIn(name)
            #expect(await fixture.get("/subjects", cookies: cookies).status == 403, "\(name)")
            #expect(await Self.lookUp(fixture, cookies: cookies).status == 403, "\(name)")
            #expect(await fixture.post("/subjects/export", form: ["csrf": await fixture.csrf(cookies)], cookies: cookies).status == 403)
            #expect(await fixture.post("/subjects/erase", form: ["csrf": await fixture.csrf(cookies)], cookies: cookies).status == 403)
            #expect(!ConsoleFixture.text(await fixture.get("/calls", cookies: cookies)).contains("href=\"/subjects\""))
        }
        let (_, admin) = await fixture.signIn("ada")
        #expect(await fixture.get("/subjects?tenant=\(fixture.tenantB.id)", cookies: admin).status == 404)
        let foreign = await Self.lookUp(fixture, cookies: admin, tenant: fixture.tenantB.id)
        let none = await Self.lookUp(fixture, cookies: admin, tenant: "no-such-tenant")
        #expect(foreign.status == 404 && ConsoleFixture.text(foreign) == ConsoleFixture.text(none))
        let forged = await fixture.post("/subjects", form: ["tenant": fixture.tenantA.id, "phone": Self.number], cookies: admin)
        #expect(forged.status == 403, "no CSRF token")
        #expect(await fixture.post("/subjects/erase", form: ["csrf": await fixture.csrf(admin)], cookies: admin).status == 409, "nothing looked up")
        #expect(try fixture.data.catalog.recordings(inCalls: [call.id]).allSatisfy { $0.state == .complete })
    }

    /// The entry names of a ZIP, from its central directory (the end record's offset and count).
    static func zipEntryNames(_ zip: [UInt8]) -> [String] {
        func u16(_ at: Int) -> Int { Int(zip[at]) | Int(zip[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        guard zip.count >= 22,
            let end = stride(from: zip.count - 22, through: 0, by: -1).first(where: { u32($0) == 0x0605_4B50 })
        else { return [] }
        var names: [String] = []
        var at = u32(end + 16)
        for _ in 0..<u16(end + 10) {
            guard at + 46 <= zip.count, u32(at) == 0x0201_4B50 else { break }
            let nameLength = u16(at + 28)
            names.append(String(decoding: zip[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self))
            at += 46 + nameLength + u16(at + 30) + u16(at + 32)
        }
        return names
    }

    /// The code on a confirmation page.
    static func code(_ response: ConsoleResponse) -> String? {
        let page = ConsoleFixture.text(response)
        guard let range = page.range(of: "<strong class=\"code\">") else { return nil }
        return String(page[range.upperBound...].prefix { $0 != "<" })
    }
}
