import CallVaultConsole
import CallVaultModel
import CallVaultStore
import Foundation
import Testing

/// The jobs and audit pages read a page at a time from the store: every job or entry of the operator's
/// tenants once across the pages, none of another tenant's.
@Suite struct ConsolePagingTests {
    /// The target of the link with this `rel` on a page, unescaped.
    static func link(_ rel: String, in page: String) -> String? {
        guard let end = page.range(of: "\" rel=\"\(rel)\"") else { return nil }
        let start = page[..<end.lowerBound].range(of: "href=\"", options: .backwards)!
        return String(page[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test func theJobsPagesShowEveryJobOfTheOperatorsTenantsOnceNewestFirst() async throws {
        let fixture = try ConsoleFixture("console-jobs-pages")
        let queue = fixture.data.catalog.queue
        var made: [JobRecord] = []
        for index in 0..<60 {
            made.append(
                try await queue.enqueue(
                    JobRequest(callID: fixture.callA.id, tenantID: fixture.tenantA.id, engine: "e\(index)")
                )
            )
        }
        let foreign = try await queue.enqueue(
            JobRequest(callID: fixture.callB.id, tenantID: fixture.tenantB.id, engine: "e0")
        )
        let (_, cookies) = await fixture.signIn("alice")
        var seen: [String] = []
        var target: String? = "/jobs"
        var pages = 0
        while let next = target, pages < 5 {
            let page = ConsoleFixture.text(await fixture.get(next, cookies: cookies))
            #expect(!page.contains(foreign.id))
            seen += page.components(separatedBy: "<tr id=\"job-").dropFirst().map { String($0.prefix { $0 != "\"" }) }
            target = Self.link("next", in: page)
            pages += 1
        }
        #expect(pages == 2)
        #expect(seen == made.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.map(\.id))
    }

    @Test func theAuditPagesGoOlderAndNewerWithinTheOperatorsTenants() async throws {
        let fixture = try ConsoleFixture("console-audit-pages")
        let audit = fixture.data.catalog.audit
        for index in 0..<150 {
            _ = try await audit.append(
                AuditEvent(actor: "test", action: .holdSet, tenantID: fixture.tenantA.id, subjectID: "mine-\(index)")
            )
            _ = try await audit.append(
                AuditEvent(actor: "test", action: .holdSet, tenantID: fixture.tenantB.id, subjectID: "theirs-\(index)")
            )
        }
        let mine = try await audit.latestEntries(tenantIDs: [fixture.tenantA.id], beforeSeq: nil, limit: 1000).map(
            \.seq
        )
        let (_, cookies) = await fixture.signIn("alice")
        func seqs(_ page: String) -> [Int64] {
            page.components(separatedBy: "<tr><td>").dropFirst().compactMap { Int64($0.prefix { $0 != "<" }) }
        }
        let first = ConsoleFixture.text(await fixture.get("/audit", cookies: cookies))
        #expect(!first.contains("theirs-"))
        #expect(seqs(first) == Array(mine.prefix(100)))
        #expect(Self.link("prev", in: first) == nil, "the newest page has no Newer link")
        let olderURL = try #require(Self.link("next", in: first))
        let older = ConsoleFixture.text(await fixture.get(olderURL, cookies: cookies))
        #expect(seqs(older) == Array(mine.dropFirst(100).prefix(100)))
        #expect(Self.link("next", in: older) == nil || seqs(older).count == 100)
        let newerURL = try #require(Self.link("prev", in: older))
        let newer = ConsoleFixture.text(await fixture.get(newerURL, cookies: cookies))
        #expect(seqs(newer) == Array(mine.prefix(100)), "Newer goes back to the page before")
        #expect(Self.link("prev", in: newer) == nil, "and that is the newest")
    }
}
