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
        // 20 tenants; actions and actors drawn independently in the proportions of a busy log: a rare action
        // is 1 in 100 entries (one 1 in 100,000), an operator 1 in 20; a subject has 3 entries; an entry every 30 s from 2026-01-01.
        // (MATERIALIZED: each draw is made once per row, not once per reference.)
        let filled = ContinuousClock.now
        try catalog.write { db in
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?),
                    d AS MATERIALIZED (
                        SELECT i, abs(random()) % 100 AS a, abs(random()) % 20 AS o, abs(random()) % 20 AS t FROM n)
                    INSERT INTO audit_log (seq, at, actor, action, tenant_id, subject_id, details, prev_hash, hash)
                    SELECT i, strftime('%Y-%m-%d %H:%M:%f', 1767225600 + i * 30, 'unixepoch'),
                        CASE WHEN o = 0 THEN 'console:ada' WHEN o = 1 THEN 'console:alice' WHEN o < 4 THEN 'cli'
                            WHEN o < 8 THEN 'sweeper' ELSE 'recorder' END,
                        CASE WHEN i % 100000 = 50 THEN 'subject.erased' WHEN a < 1 THEN 'job.retried' WHEN a < 5 THEN 'hold.set' WHEN a < 10 THEN 'operator.signed_in'
                            WHEN a < 20 THEN 'recording.decrypted' WHEN a < 40 THEN 'recording.shredded'
                            WHEN a < 60 THEN 'call.started' ELSE 'consent.event' END,
                        't' || t, 's' || (i / 3), '{}', zeroblob(32), zeroblob(32)
                    FROM d ORDER BY i
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
            ("action subject.erased (1 in 100,000)", AuditEntryQuery(action: .subjectErased)),
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
            ("action hold.set (4%), actor cli (10%), 3 tenants", AuditEntryQuery(tenantIDs: mine, action: .holdSet, actor: "cli")),
        ]
        // Then the same without the v20 indexes, to show what they are for (the log as before the migration).
        for indexed in [true, false] {
            if !indexed {
                try catalog.write { db in
                    try db.execute(
                        sql: "DROP INDEX audit_log_by_action; DROP INDEX audit_log_by_actor; DROP INDEX audit_log_by_subject")
                }
            }
            let variant = indexed ? "" : " (without the v20 indexes)"
            var plans: [String] = []
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
                    "measured: audit filters, \(count) entries\(variant), \(name): first page (\(page.count)) in "
                        + "\(firstSeconds) ms; past the oldest match (\(none.count)) in \(pastSeconds) ms")
                if let (sql, arguments) = AuditLog.filter(first) {
                    let plan = try catalog.read { db in
                        try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
                    }
                    plans.append("\(name): \(plan.joined(separator: " / "))")
                }
            }
            print("measured: audit filter plans\(variant):\n  " + plans.joined(separator: "\n  "))
            // What the indexes cost an append (the sweeper appends one entry per shredded recording).
            let appended = ContinuousClock.now
            for index in 0..<2_000 {
                _ = try await store.append(
                    AuditEvent(
                        actor: "sweeper", action: .recordingShredded, tenantID: "t\(index % 20)", subjectID: "r\(index)",
                        details: ["reason": "expired"]))
            }
            print("measured: audit filters, \(count) entries\(variant): 2,000 appends in \(Self.seconds(since: appended)) s")
        }
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
