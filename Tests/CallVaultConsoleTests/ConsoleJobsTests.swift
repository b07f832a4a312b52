import CallVaultConsole
import CallVaultModel
import CallVaultStore
import Foundation
import Testing

/// The jobs page: the queue of the operator's tenants only, and retry by an administrator of the job's
/// tenant (audited with the operator), refused to others and without the CSRF token.
@Suite struct ConsoleJobsTests {
    /// A cancelled job for each tenant's call (what the worker leaves when a recording was shredded).
    static func cancelledJobs(_ fixture: ConsoleFixture) async throws -> (a: JobRecord, b: JobRecord) {
        let queue = fixture.data.catalog.queue
        let a = try await queue.enqueue(JobRequest(callID: fixture.callA.id, tenantID: fixture.tenantA.id, engine: "pocketsphinx"))
        let b = try await queue.enqueue(JobRequest(callID: fixture.callB.id, tenantID: fixture.tenantB.id, engine: "pocketsphinx"))
        try await queue.cancel(jobID: a.id, reason: "recording shredded before transcription")
        try await queue.cancel(jobID: b.id, reason: "recording shredded before transcription")
        return (a, b)
    }

    @Test func theListShowsTheOperatorsTenantsJobsOnly() async throws {
        let fixture = try ConsoleFixture("console-jobs-list")
        let (a, b) = try await Self.cancelledJobs(fixture)
        let (_, cookies) = await fixture.signIn("alice")
        let page = await fixture.get("/jobs", cookies: cookies)
        #expect(page.status == 200)
        let text = ConsoleFixture.text(page)
        #expect(text.contains(a.id) && !text.contains(b.id))
        #expect(text.contains("href=\"/calls/\(fixture.callA.id)\""))
        #expect(text.contains("recording shredded before transcription") && text.contains("cancelled"))
        #expect(!text.contains("/retry\""), "an agent gets no retry button")
        let foreignFilter = ConsoleFixture.text(await fixture.get("/jobs?tenant=\(fixture.tenantB.id)", cookies: cookies))
        #expect(foreignFilter.contains(a.id) && !foreignFilter.contains(b.id), "a foreign tenant filter is ignored")
        let queued = ConsoleFixture.text(await fixture.get("/jobs?state=queued", cookies: cookies))
        #expect(!queued.contains(a.id), "filtered by state")
        #expect(ConsoleFixture.text(await fixture.get("/calls", cookies: cookies)).contains("href=\"/jobs\""), "in the navigation")
    }

    @Test func anAdminRetriesAJobAuditedWithTheOperator() async throws {
        let fixture = try ConsoleFixture("console-jobs-retry")
        let (a, _) = try await Self.cancelledJobs(fixture)
        let (_, cookies) = await fixture.signIn("ada")
        let page = ConsoleFixture.text(await fixture.get("/jobs", cookies: cookies))
        #expect(page.contains("action=\"/jobs/\(a.id)/retry\""))
        let missing = await fixture.post("/jobs/\(a.id)/retry", form: [:], cookies: cookies)
        #expect(missing.status == 403, "no CSRF token")
        #expect(try await fixture.data.catalog.queue.jobs(state: .cancelled).contains { $0.id == a.id })
        let csrf = await fixture.csrf(cookies)
        let retried = await fixture.post("/jobs/\(a.id)/retry", form: ["csrf": csrf], cookies: cookies)
        #expect(retried.status == 303)
        let after = try #require(try await fixture.data.catalog.queue.jobs(state: nil).first { $0.id == a.id })
        #expect(after.state == .queued && after.attempts == 0)
        let entries = try await fixture.data.catalog.audit.entries().filter { $0.action == .jobRetried }
        #expect(entries.count == 1)
        #expect(entries.first?.actor == "console:ada" && entries.first?.subjectId == a.id && entries.first?.tenantId == fixture.tenantA.id)
        #expect(entries.first?.detailValues["callId"] == fixture.callA.id)
        let shown = ConsoleFixture.text(await fixture.follow(retried, cookies: cookies))
        #expect(shown.contains("is queued again"))
        // A queued job cannot be retried: said on the page, nothing audited.
        let again = await fixture.post("/jobs/\(a.id)/retry", form: ["csrf": csrf], cookies: cookies)
        #expect(again.status == 409 && ConsoleFixture.text(again).contains("only a dead, cancelled or failed job"))
        #expect(try await fixture.data.catalog.audit.entries().filter { $0.action == .jobRetried }.count == 1)
    }

    @Test func aViewersForgedRetryIsRefusedAndAnotherTenantsJobIsNotFound() async throws {
        let fixture = try ConsoleFixture("console-jobs-forged")
        let (a, b) = try await Self.cancelledJobs(fixture)
        let (_, viewer) = await fixture.signIn("victor")
        #expect(!ConsoleFixture.text(await fixture.get("/jobs", cookies: viewer)).contains("/retry\""))
        let forged = await fixture.post("/jobs/\(a.id)/retry", form: ["csrf": await fixture.csrf(viewer)], cookies: viewer)
        #expect(forged.status == 403)
        let (_, admin) = await fixture.signIn("ada")
        let csrf = await fixture.csrf(admin)
        let foreign = await fixture.post("/jobs/\(b.id)/retry", form: ["csrf": csrf], cookies: admin)
        let none = await fixture.post("/jobs/no-such-job/retry", form: ["csrf": csrf], cookies: admin)
        #expect(foreign.status == 404 && none.status == 404)
        #expect(ConsoleFixture.text(foreign) == ConsoleFixture.text(none), "another tenant's job looks exactly like none")
        let jobs = try await fixture.data.catalog.queue.jobs(state: nil)
        #expect(jobs.allSatisfy { $0.state == .cancelled }, "nothing was retried")
        #expect(try await fixture.data.catalog.audit.entries().allSatisfy { $0.action != .jobRetried })
    }
}
