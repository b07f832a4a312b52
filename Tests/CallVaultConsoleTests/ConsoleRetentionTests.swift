import CallVaultConsole
import CallVaultModel
import CallVaultStore
import Foundation
import Testing

/// The retention page: expiry, holds and restrictions of the operator's tenants' recordings, and an
/// administrator's hold and restriction (through the CLI's doors, audited with the operator), refused
/// to others, without the CSRF token, without a reason, and for another tenant's recording.
@Suite struct ConsoleRetentionTests {
    /// Records both calls (a caller and a bot track each, sealed under real keys).
    static func recorded(_ fixture: ConsoleFixture) async throws -> (a: RecordingRecord, b: RecordingRecord) {
        try ConsolePlaybackTests.record(fixture.callA, in: fixture)
        try ConsolePlaybackTests.record(fixture.callB, in: fixture)
        let a = try #require(try fixture.data.catalog.recordings(inCalls: [fixture.callA.id]).first { $0.track == .caller })
        let b = try #require(try fixture.data.catalog.recordings(inCalls: [fixture.callB.id]).first { $0.track == .caller })
        return (a, b)
    }

    static func audit(_ fixture: ConsoleFixture, _ action: AuditAction) async throws -> [AuditEntry] {
        try await fixture.data.catalog.audit.entries().filter { $0.action == action }
    }

    @Test func theListShowsExpiryOfTheOperatorsTenantsOnly() async throws {
        let fixture = try ConsoleFixture("console-retention-list")
        let (a, b) = try await Self.recorded(fixture)
        let (_, cookies) = await fixture.signIn("alice")
        let page = await fixture.get("/retention", cookies: cookies)
        #expect(page.status == 200)
        let text = ConsoleFixture.text(page)
        #expect(text.contains("CA-call-a") && text.contains("id=\"rec-\(a.id)\""))
        #expect(!text.contains("CA-call-b") && !text.contains(b.id))
        let expires = Date(timeIntervalSince1970: (a.expiresAt.timeIntervalSince1970 * 1000).rounded() / 1000)
        #expect(text.contains(Self.utc(expires)), "the expiry is shown")
        #expect(!text.contains("/hold\"") && !text.contains("/restrict\""), "an agent gets no forms")
        let foreign = ConsoleFixture.text(await fixture.get("/retention?tenant=\(fixture.tenantB.id)", cookies: cookies))
        #expect(foreign.contains("CA-call-a") && !foreign.contains("CA-call-b"), "a foreign tenant filter is ignored")
        #expect(text.contains("href=\"/retention\""), "in the navigation")
    }

    @Test func anAdminHoldsAndLiftsAuditedWithTheOperator() async throws {
        let fixture = try ConsoleFixture("console-retention-hold")
        let (a, _) = try await Self.recorded(fixture)
        let (_, cookies) = await fixture.signIn("ada")
        #expect(ConsoleFixture.text(await fixture.get("/retention", cookies: cookies)).contains("action=\"/recordings/\(a.id)/hold\""))
        let csrf = await fixture.csrf(cookies)
        let held = await fixture.post(
            "/recordings/\(a.id)/hold", form: ["csrf": csrf, "action": "set", "reason": "litigation 12"], cookies: cookies)
        #expect(held.status == 303, "\(ConsoleFixture.text(held))")
        let after = try fixture.data.catalog.recording(id: a.id)
        #expect(after.hold && after.holdReason == "litigation 12")
        let status = try fixture.data.keyStore.dataKeyStatus(ownerID: a.id, tenantID: a.tenantId)
        guard case .active(_, _, _, let keyHeld) = status else { Issue.record("no active key: \(status)"); return }
        #expect(keyHeld, "the key is under the tenant's hold key, as `hold set` does")
        let set = try await Self.audit(fixture, .holdSet)
        #expect(set.count == 1 && set[0].actor == "console:ada" && set[0].subjectId == a.id && set[0].detailValues["reason"] == "litigation 12")
        let page = ConsoleFixture.text(await fixture.follow(held, cookies: cookies))
        #expect(page.contains("held: litigation 12") && page.contains("changed (audited)"))
        let lifted = await fixture.post("/recordings/\(a.id)/hold", form: ["csrf": csrf, "action": "lift"], cookies: cookies)
        #expect(lifted.status == 303)
        #expect(try !fixture.data.catalog.recording(id: a.id).hold)
        #expect(try await Self.audit(fixture, .holdCleared).map(\.actor) == ["console:ada"])
    }

    @Test func anAdminRestrictsAndLiftsWithAReasonAuditedWithTheOperator() async throws {
        let fixture = try ConsoleFixture("console-retention-restrict")
        let (a, _) = try await Self.recorded(fixture)
        let (_, cookies) = await fixture.signIn("ada")
        let csrf = await fixture.csrf(cookies)
        let restricted = await fixture.post(
            "/recordings/\(a.id)/restrict", form: ["csrf": csrf, "action": "set", "reason": "subject objects (ticket 9)"],
            cookies: cookies)
        #expect(restricted.status == 303)
        #expect(try fixture.data.catalog.recording(id: a.id).restricted)
        let entries = try await Self.audit(fixture, .recordingRestricted)
        #expect(entries.count == 1 && entries[0].actor == "console:ada" && entries[0].detailValues["reason"] == "subject objects (ticket 9)")
        let page = ConsoleFixture.text(await fixture.get("/retention", cookies: cookies))
        #expect(page.contains("restricted: subject objects (ticket 9)"), "the reason, read from its audit entry")
        let lifted = await fixture.post(
            "/recordings/\(a.id)/restrict", form: ["csrf": csrf, "action": "lift", "reason": "objection withdrawn"], cookies: cookies)
        #expect(lifted.status == 303)
        #expect(try !fixture.data.catalog.recording(id: a.id).restricted)
        #expect(try await Self.audit(fixture, .recordingUnrestricted).map { $0.detailValues["reason"] } == ["objection withdrawn"])
    }

    @Test func aMissingOrLongReasonIsShownOnThePageAndChangesNothing() async throws {
        let fixture = try ConsoleFixture("console-retention-reason")
        let (a, _) = try await Self.recorded(fixture)
        let (_, cookies) = await fixture.signIn("ada")
        let csrf = await fixture.csrf(cookies)
        for (path, reason) in [("hold", "  "), ("restrict", ""), ("restrict", String(repeating: "x", count: 501))] {
            let refused = await fixture.post(
                "/recordings/\(a.id)/\(path)", form: ["csrf": csrf, "action": "set", "reason": reason], cookies: cookies)
            #expect(refused.status == 400)
            #expect(ConsoleFixture.text(refused).contains("Give a reason (1 to 500 characters): nothing was changed."))
        }
        let after = try fixture.data.catalog.recording(id: a.id)
        #expect(!after.hold && !after.restricted)
        #expect(try await fixture.data.catalog.audit.entries().allSatisfy {
            ![.holdSet, .recordingRestricted].contains($0.action)
        })
    }

    @Test func viewersForgeriesMissingCSRFAndAnotherTenantsRecordingAreRefused() async throws {
        let fixture = try ConsoleFixture("console-retention-refused")
        let (a, b) = try await Self.recorded(fixture)
        let (_, viewer) = await fixture.signIn("victor")
        let page = ConsoleFixture.text(await fixture.get("/retention", cookies: viewer))
        #expect(page.contains(a.id) && !page.contains("/hold\"") && !page.contains("/restrict\""))
        let viewerCSRF = await fixture.csrf(viewer)
        for path in ["hold", "restrict"] {
            let forged = await fixture.post(
                "/recordings/\(a.id)/\(path)", form: ["csrf": viewerCSRF, "action": "set", "reason": "x"], cookies: viewer)
            #expect(forged.status == 403)
        }
        let (_, admin) = await fixture.signIn("ada")
        let noCSRF = await fixture.post("/recordings/\(a.id)/hold", form: ["action": "set", "reason": "x"], cookies: admin)
        #expect(noCSRF.status == 403)
        let csrf = await fixture.csrf(admin)
        for path in ["hold", "restrict"] {
            let foreign = await fixture.post(
                "/recordings/\(b.id)/\(path)", form: ["csrf": csrf, "action": "set", "reason": "tamper"], cookies: admin)
            let none = await fixture.post(
                "/recordings/no-such-recording/\(path)", form: ["csrf": csrf, "action": "set", "reason": "tamper"], cookies: admin)
            #expect(foreign.status == 404 && none.status == 404)
            #expect(ConsoleFixture.text(foreign) == ConsoleFixture.text(none))
        }
        for id in [a.id, b.id] {
            let recording = try fixture.data.catalog.recording(id: id)
            #expect(!recording.hold && !recording.restricted)
        }
        #expect(try await fixture.data.catalog.audit.entries().allSatisfy { ![.holdSet, .recordingRestricted].contains($0.action) })
    }

    static func utc(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }
}
