import CallVaultConsole
import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import Foundation
import Testing

/// The audit page's filters (action, actor, subject, UTC dates): applied by the store's query, carried in
/// the paging links, never widening an operator's view beyond its tenants, and refused with a 400 that
/// names the field when malformed.
@Suite struct ConsoleAuditFilterTests {
    /// Sequence numbers of the page's rows, in order.
    static func seqs(_ page: String) -> [Int64] {
        page.components(separatedBy: "<tr><td>").dropFirst().compactMap { Int64($0.prefix { $0 != "<" }) }
    }

    /// Every row reached from `target` by following the Older links.
    static func allPages(_ fixture: ConsoleFixture, _ target: String, cookies: [String: String]) async -> (seqs: [Int64], pages: [String]) {
        var seen: [Int64] = []
        var pages: [String] = []
        var next: String? = target
        while let url = next, pages.count < 20 {
            let page = ConsoleFixture.text(await fixture.get(url, cookies: cookies))
            pages.append(page)
            seen += seqs(page)
            next = ConsolePagingTests.link("next", in: page)
        }
        return (seen, pages)
    }

    /// A log in both tenants: 260 entries a tenant over three days, actions, actors and subjects in a known
    /// rotation, so that some filters match more than a page.
    static func makeLog(_ fixture: ConsoleFixture) async throws -> [AuditEntry] {
        let audit = fixture.data.catalog.audit
        let start = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15 08:00 UTC
        var made: [AuditEntry] = []
        for index in 0..<260 {
            for (tenant, prefix) in [(fixture.tenantA.id, "a"), (fixture.tenantB.id, "b")] {
                made.append(
                    try await audit.append(
                        AuditEvent(
                            actor: index % 3 == 0 ? "cli" : "console:ada",
                            action: index % 2 == 0 ? .jobRetried : .recordingDecrypted, tenantID: tenant,
                            subjectID: "\(prefix)-rec-\(index % 4)", details: ["i": "\(index)"],
                            at: start.addingTimeInterval(Double(index) * 1000))))
            }
        }
        return made
    }

    @Test func eachFilterAloneAndCombinedShowsExactlyTheMatchingEntriesAcrossPages() async throws {
        let fixture = try ConsoleFixture("console-audit-filters")
        let log = try await Self.makeLog(fixture)
        let all = try await fixture.data.catalog.audit.entries()
        let (_, cookies) = await fixture.signIn("ada")
        let a = fixture.tenantA.id
        let cases: [(String, (AuditEntry) -> Bool)] = [
            ("action=job.retried", { $0.action == .jobRetried }),
            ("actor=ada", { $0.actor == "console:ada" }),
            ("actor=console%3Aada", { $0.actor == "console:ada" }),
            ("actor=cli", { $0.actor == "cli" }),
            ("subject=a-rec-1", { $0.subjectId == "a-rec-1" }),
            ("subject=b-rec-1", { $0.subjectId == "b-rec-1" }),
            ("from=2027-01-16", { $0.at >= Date(timeIntervalSince1970: 1_800_000_000 + 16 * 3600) }),
            ("to=2027-01-16", { $0.at < Date(timeIntervalSince1970: 1_800_000_000 + 40 * 3600) }),
            ("from=2027-01-16&to=2027-01-16", {
                $0.at >= Date(timeIntervalSince1970: 1_800_000_000 + 16 * 3600)
                    && $0.at < Date(timeIntervalSince1970: 1_800_000_000 + 40 * 3600)
            }),
            ("action=job.retried&actor=cli", { $0.action == .jobRetried && $0.actor == "cli" }),
            ("action=recording.decrypted&subject=a-rec-3&from=2027-01-16", {
                $0.action == .recordingDecrypted && $0.subjectId == "a-rec-3"
                    && $0.at >= Date(timeIntervalSince1970: 1_800_000_000 + 16 * 3600)
            }),
            ("action=hold.set", { $0.action == .holdSet }),
        ]
        var multiPage = 0
        for (filter, matches) in cases {
            let expected = all.filter { $0.tenantId == a && matches($0) }.map(\.seq).reversed()
            let (seen, pages) = await Self.allPages(fixture, "/audit?\(filter)", cookies: cookies)
            #expect(seen == Array(expected), "\(filter): every matching entry of tenant A once, newest first")
            #expect(!pages.contains { $0.contains("<code>b-rec-") }, "\(filter): never tenant B's")
            if pages.count > 1 {
                multiPage += 1
                // The Older link kept the filter, and Newer goes back within it.
                let second = pages[1]
                let newer = try #require(ConsolePagingTests.link("prev", in: second))
                #expect(Self.seqs(ConsoleFixture.text(await fixture.get(newer, cookies: cookies))) == Self.seqs(pages[0]), "\(filter)")
                for field in filter.split(separator: "&") {
                    #expect(newer.contains(String(field)), "\(filter): \(newer) carries \(field)")
                }
            }
            if expected.isEmpty { #expect(pages[0].contains("No entries match.")) }
        }
        #expect(multiPage >= 3, "filters that match more than a page are paged")
        #expect(log.count == 520)
    }

    @Test func anOperatorNeverSeesAnotherTenantsEntriesWhateverTheFilter() async throws {
        let fixture = try ConsoleFixture("console-audit-filter-tenants")
        _ = try await Self.makeLog(fixture)
        let (_, cookies) = await fixture.signIn("alice")
        for filter in [
            "subject=b-rec-2", "action=recording.decrypted", "actor=cli", "from=2027-01-15&to=2027-01-20",
            "action=job.retried&subject=b-rec-0", "before=999999&subject=b-rec-1", "after=0&subject=b-rec-1",
        ] {
            let (seen, pages) = await Self.allPages(fixture, "/audit?\(filter)", cookies: cookies)
            #expect(!pages.contains { $0.contains("<code>b-rec-") || $0.contains(fixture.tenantB.id) }, "\(filter)")
            let entries = try await fixture.data.catalog.audit.entries()
            #expect(seen.allSatisfy { seq in entries.first { $0.seq == seq }?.tenantId == fixture.tenantA.id }, "\(filter)")
        }
        // A global administrator sees both tenants' entries of a filter.
        let hash = try PasswordHash(hashing: ConsoleFixture.password, parameters: ConsoleFixture.cheap).encoded
        _ = try fixture.data.catalog.addOperator(
            name: "root", passwordHash: hash, globalAdmin: true, roles: [:], actor: "test", at: Date())
        let (_, root) = await fixture.signIn("root")
        let (seen, _) = await Self.allPages(fixture, "/audit?action=job.retried&actor=cli", cookies: root)
        let expected = try await fixture.data.catalog.audit.entries().filter { $0.action == .jobRetried && $0.actor == "cli" }
        #expect(seen == expected.map(\.seq).reversed())
        #expect(Set(expected.compactMap(\.tenantId)).count == 2)
    }

    @Test func aMalformedFilterIsA400NamingWhatWasWrong() async throws {
        let fixture = try ConsoleFixture("console-audit-filter-errors")
        let (_, cookies) = await fixture.signIn("alice")
        let cases: [(String, String)] = [
            ("from=2027-13-01", "“from” date “2027-13-01” is not a date"),
            ("to=yesterday", "“to” date “yesterday” is not a date"),
            ("from=2027-02-30", "“from” date “2027-02-30”"),
            ("from=2027-1-5", "YYYY-MM-DD"),
            ("action=recording.played", "no audit action “recording.played”"),
            ("action=%3Cscript%3E", "no audit action “&lt;script&gt;”"),
            ("from=2027-03-02&to=2027-03-01", "“from” date is after the “to” date"),
            ("subject=%2B44%2020%207946", "“subject” filter"),
            ("actor=a%20b", "“actor” filter"),
        ]
        for (query, says) in cases {
            let response = await fixture.get("/audit?\(query)", cookies: cookies)
            let page = ConsoleFixture.text(response)
            #expect(response.status == 400, "\(query)")
            #expect(page.contains(says), "\(query): \(page)")
            #expect(!page.contains("<script>"))
            #expect(!page.contains("7946"), "a refused subject is not shown back")
            #expect(page.contains("<form method=\"get\" action=\"/audit\""), "the form is there to fix it")
        }
        // Every known action is offered and accepted.
        let form = ConsoleFixture.text(await fixture.get("/audit", cookies: cookies))
        for action in AuditAction.known {
            #expect(form.contains("<option value=\"\(action.rawValue)\""))
        }
        #expect(await fixture.get("/audit?action=subject.exported", cookies: cookies).status == 200)
    }
}
