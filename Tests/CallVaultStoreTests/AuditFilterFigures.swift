import CallVaultModel
import CallVaultTestSupport
import Foundation
import GRDB
import Testing

@testable import CallVaultStore

/// The console's audit filters on a large SQLite log, printed as `measured:` lines (not asserted: a shared
/// 2-core machine varies). Off unless `CALLVAULT_AUDIT_FILTER_FIGURES=1`; `CALLVAULT_AUDIT_FILTER_ENTRIES`
/// sets the log's size (default 1,000,000). The rows are inserted by SQL in one statement (their hashes are
/// zeros: the chain is not what is measured). See `docs/console.md`.
@Suite(
    "Audit filter figures",
    .enabled(
        if: ProcessInfo.processInfo.environment["CALLVAULT_AUDIT_FILTER_FIGURES"] == "1",
        "measurements only: set CALLVAULT_AUDIT_FILTER_FIGURES=1"
    ),
    .timeLimit(.minutes(30))
)
struct AuditFilterFigures {
    @Test func filteredPagesOnALargeLog() async throws {
        let count = ProcessInfo.processInfo.environment["CALLVAULT_AUDIT_FILTER_ENTRIES"].flatMap { Int($0) } ?? 1_000_000
        let directory = try CatalogTestDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let catalog = try Catalog(directory: directory.path)
        let store = SQLiteAuditStore(catalog: catalog)
        // 20 tenants; actions and actors in the proportions of a busy log: a rare action is 1 in 100, an
        // operator 1 in 20 entries; a subject has 3 entries; an entry every 30 s from 2026-01-01.
        let filled = ContinuousClock.now
        try catalog.write { db in
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                    INSERT INTO audit_log (seq, at, actor, action, tenant_id, subject_id, details, prev_hash, hash)
                    SELECT i, strftime('%Y-%m-%d %H:%M:%f', 1767225600 + i * 30, 'unixepoch'),
                        CASE WHEN i % 20 = 0 THEN 'console:ada' WHEN i % 20 = 1 THEN 'console:alice'
                            WHEN i % 10 = 2 THEN 'cli' WHEN i % 5 = 3 THEN 'sweeper' ELSE 'recorder' END,
                        CASE WHEN i % 100 = 7 THEN 'job.retried' WHEN i % 25 = 3 THEN 'hold.set'
                            WHEN i % 20 = 0 THEN 'operator.signed_in' WHEN i % 10 = 5 THEN 'recording.decrypted'
                            WHEN i % 5 = 1 THEN 'recording.shredded' WHEN i % 5 = 2 THEN 'call.started'
                            ELSE 'consent.event' END,
                        't' || (i % 20), 's' || (i / 3), '{}', zeroblob(32), zeroblob(32)
                    FROM n
                    """, arguments: [count])
        }
        print("measured: audit filters, \(count) entries inserted in \(Self.seconds(since: filled)) s")
        let start = Date(timeIntervalSince1970: 1_767_225_600)
        let oldDay = start.addingTimeInterval(86_400 * 2)
        let recentDay = start.addingTimeInterval(Double(count) * 30 - 86_400 * 2)
        let mine = ["t1", "t2", "t3"]
        let cases: [(String, AuditEntryQuery)] = [
            ("no filter, all tenants", AuditEntryQuery()),
            ("no filter, 3 of 20 tenants", AuditEntryQuery(tenantIDs: mine)),
            ("action job.retried (1%)", AuditEntryQuery(action: .jobRetried)),
            ("action job.retried, 3 tenants", AuditEntryQuery(tenantIDs: mine, action: .jobRetried)),
            ("actor console:ada (5%), 3 tenants", AuditEntryQuery(tenantIDs: mine, actor: "console:ada")),
            ("subject (3 entries)", AuditEntryQuery(subjectID: "s\(count / 7)")),
            ("subject, 3 tenants", AuditEntryQuery(tenantIDs: mine, subjectID: "s\(count / 7)")),
            ("a recent day", AuditEntryQuery(from: recentDay, before: recentDay.addingTimeInterval(86_400))),
            ("an old day", AuditEntryQuery(from: oldDay, before: oldDay.addingTimeInterval(86_400))),
            ("an old day, 3 tenants", AuditEntryQuery(tenantIDs: mine, from: oldDay, before: oldDay.addingTimeInterval(86_400))),
            ("an old day, job.retried, 3 tenants",
             AuditEntryQuery(tenantIDs: mine, action: .jobRetried, from: oldDay, before: oldDay.addingTimeInterval(86_400))),
            ("action hold.set, actor cli, 3 tenants", AuditEntryQuery(tenantIDs: mine, action: .holdSet, actor: "cli")),
        ]
        for (name, query) in cases {
            var first = query
            first.limit = 101
            let (page, firstSeconds) = try await Self.timed { try await store.entries(matching: first) }
            // The last page of a filter reads on past its oldest match to the log's start to learn there is no
            // more: its cost, as a query from the oldest match down (it finds nothing).
            var oldest = first
            oldest.direction = .oldestFirst(afterSeq: 0)
            oldest.limit = 1
            let found = try await store.entries(matching: oldest).first?.seq ?? 1
            var past = first
            past.direction = .newestFirst(beforeSeq: found)
            let (none, pastSeconds) = try await Self.timed { try await store.entries(matching: past) }
            print(
                "measured: audit filters, \(count) entries, \(name): first page (\(page.count)) in \(firstSeconds) ms; "
                    + "past the oldest match (\(none.count)) in \(pastSeconds) ms")
        }
        var plans: [String] = []
        for (name, query) in cases {
            guard let (sql, arguments) = AuditLog.filter(query) else { continue }
            let plan = try catalog.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
            }
            plans.append("\(name): \(plan.joined(separator: " / "))")
        }
        print("measured: audit filter plans:\n  " + plans.joined(separator: "\n  "))
    }

    /// The best of three runs, in milliseconds.
    static func timed<T>(_ body: () async throws -> T) async throws -> (T, String) {
        var best = Duration.seconds(1000)
        var result: T?
        for _ in 0..<3 {
            let started = ContinuousClock.now
            result = try await body()
            best = min(best, ContinuousClock.now - started)
        }
        let ms = Double(best.components.seconds) * 1000 + Double(best.components.attoseconds) / 1e15
        return (result!, String(format: "%.1f", ms))
    }

    static func seconds(since start: ContinuousClock.Instant) -> String {
        let d = ContinuousClock.now - start
        return String(format: "%.1f", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }
}
