import CallVaultModel
import Foundation
import Testing

@testable import CallVaultStore

extension JobQueueConformanceTests {
    /// The console's jobs pages: newest first, a tenant list and a state in the query, a keyset cursor.
    @Test(arguments: Backend.all)
    func jobPagesFollowAKeysetCursorWithinTenantsAndStates(_ backend: Backend) async throws {
        try await QueueFixture.run(backend) { fixture in
            let queue = fixture.queue
            var made: [JobRecord] = []
            for index in 0..<9 { made.append(try await fixture.enqueue(engine: index % 2 == 0 ? "whisper" : "vosk")) }
            for job in made.enumerated() where job.offset % 3 == 0 {
                try await queue.cancel(jobID: job.element.id, reason: "test")
            }
            let tenantID = made[0].tenantId
            let all = try await queue.jobs(state: nil)
            func pages(_ query: JobListQuery) async throws -> [String] {
                var query = query
                query.limit = 2
                var seen: [String] = []
                while true {
                    let page = try await queue.jobs(matching: query)
                    seen += page.map(\.id)
                    guard page.count == 2, let last = page.last else { return seen }
                    query.after = (last.createdAt, last.id)
                }
            }
            func newestFirst(_ jobs: [JobRecord]) -> [String] {
                jobs.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.map(\.id)
            }
            #expect(try await pages(JobListQuery()) == newestFirst(all))
            #expect(try await pages(JobListQuery(tenantIDs: [tenantID, "another"])) == newestFirst(all))
            #expect(
                try await pages(JobListQuery(tenantIDs: [tenantID], state: .cancelled))
                    == newestFirst(all.filter { $0.state == .cancelled })
            )
            #expect(try await pages(JobListQuery(state: .queued)) == newestFirst(all.filter { $0.state == .queued }))
            #expect(try await queue.jobs(matching: JobListQuery(tenantIDs: ["another"])).isEmpty)
            #expect(try await queue.jobs(matching: JobListQuery(tenantIDs: [])).isEmpty)
            #expect(try await queue.jobs(matching: JobListQuery(limit: 3)).count == 3)
            #expect(try await queue.job(id: made[3].id)?.state == .cancelled)
            #expect(try await queue.job(id: "no-such-job") == nil)
        }
    }
}
