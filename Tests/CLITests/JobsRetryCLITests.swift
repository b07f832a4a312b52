import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// `callvault jobs retry`: the job is queued again and the retry is audited `job.retried` with actor
/// `cli` and the details the console's retry writes (call, engine, the state it left).
@Suite(.timeLimit(.minutes(15))) struct JobsRetryCLITests {
    @Test func aRetryIsAuditedWithTheStateTheJobLeft() async throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let directory = NSTemporaryDirectory() + "callvault-jobs-retry-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: directory)
        #expect(try cli.run(["init"]).status == 0)
        let tenant = try #require(try cli.run(["tenant", "add", "acme", "--json"]).json()["id"] as? String)
        let catalog = try Catalog(directory: directory)
        let call = try catalog.registerCall(
            tenantID: tenant, externalID: "CA-retry", callerNumber: nil, startedAt: Date(), actor: "test", callerKeys: nil)
        let job = try await catalog.queue.enqueue(JobRequest(callID: call.id, tenantID: tenant, engine: "pocketsphinx"))
        try await catalog.queue.cancel(jobID: job.id, reason: "recording shredded before transcription")

        let retried = try cli.run(["jobs", "retry", job.id])
        #expect(retried.status == 0 && retried.stdout.contains("queued"), "\(retried.stderr)")
        #expect(try await catalog.queue.jobs(state: nil).first { $0.id == job.id }?.state == .queued)
        let entries = try catalog.auditLog.entries().filter { $0.action == .jobRetried }
        #expect(entries.count == 1)
        let entry = try #require(entries.first)
        #expect(entry.actor == "cli" && entry.subjectId == job.id && entry.tenantId == tenant)
        #expect(entry.detailValues == ["callId": call.id, "engine": "pocketsphinx", "from": "cancelled"])

        // A queued job is refused by the queue and nothing more is audited.
        let again = try cli.run(["jobs", "retry", job.id])
        #expect(again.status != 0)
        let missing = try cli.run(["jobs", "retry", "no-such-job"])
        #expect(missing.status != 0)
        #expect(try catalog.auditLog.entries().filter { $0.action == .jobRetried }.count == 1)
    }
}
