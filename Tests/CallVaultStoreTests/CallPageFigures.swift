import CallVaultModel
import Foundation
import GRDB
import Testing

@testable import CallVaultStore

/// Times of the console's call pages on a SQLite catalog of 1,000,000 calls (`CALLVAULT_CALL_PAGE_CALLS`
/// to change), printed as `measured:` lines and not asserted (a shared machine's times vary). Off unless
/// `CALLVAULT_CALL_PAGE_FIGURES=1`: `scripts/call-page-figures` runs it. See `docs/console.md`.
///
/// One tenant; a call every 3 seconds back from a fixed time; 1 % denied, 1 % live, 2 % with an interrupted
/// recording, the rest granted, ended and complete. Filled with one prepared statement per table in one
/// transaction.
@Suite(
    "Call page figures",
    .enabled(
        if: ProcessInfo.processInfo.environment["CALLVAULT_CALL_PAGE_FIGURES"] == "1",
        "measurements only: set CALLVAULT_CALL_PAGE_FIGURES=1"
    ),
    .timeLimit(.minutes(30))
)
struct CallPageFigures {
    @Test func firstAndDeepPagesOfEachFilterOnAMillionCalls() async throws {
        let count = ProcessInfo.processInfo.environment["CALLVAULT_CALL_PAGE_CALLS"].flatMap { Int($0) } ?? 1_000_000
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let tenant = try catalog.addTenant(name: "acme", policy: TenantPolicy(), actor: "test").tenant
        let newest = Date(timeIntervalSince1970: 1_800_000_000)
        let filled = ContinuousClock.now
        try catalog.write { db in
            let call = try db.makeStatement(
                sql:
                    "INSERT INTO calls (id, tenant_id, external_id, started_at, ended_at, consent_state) VALUES (?, ?, ?, ?, ?, ?)"
            )
            let event = try db.makeStatement(
                sql: "INSERT INTO consent_events (call_id, kind, method, at) VALUES (?, ?, 'dtmf', ?)"
            )
            let recording = try db.makeStatement(
                sql: """
                    INSERT INTO recordings (id, call_id, tenant_id, track, state, codec, sample_rate, duration_ms, created_at,
                        expires_at, path)
                    VALUES (?, ?, ?, 'caller', ?, 'opus', 48000, 60000, ?, ?, ?)
                    """
            )
            for index in 0..<count {
                let id = String(format: "call-%08d", index)
                let started = newest.addingTimeInterval(-3 * Double(index))
                let denied = index % 100 == 7
                let live = index % 100 == 42
                try call.execute(arguments: [
                    id, tenant.id, "CA-\(index)", started, live ? nil : started.addingTimeInterval(60),
                    denied ? "denied" : "granted",
                ])
                try event.execute(arguments: [id, denied ? "deny" : "consent", started])
                try recording.execute(arguments: [
                    "rec-\(id)", id, tenant.id, index % 50 == 3 ? "interrupted" : "complete", started,
                    started.addingTimeInterval(86_400 * 30), "\(id).cvr",
                ])
            }
        }
        try catalog.write { db in try db.execute(sql: "ANALYZE") }
        print(
            "measured: filled \(count) calls (with an event and a recording each) in \((ContinuousClock.now - filled).seconds) s"
        )

        let day = 86_400.0
        let filters: [(String, CallSummaryQuery)] = [
            ("no filter", CallSummaryQuery(tenantIDs: [tenant.id])),
            ("no filter, every tenant (global admin)", CallSummaryQuery()),
            (
                "a date range (one day, 10 days back)",
                CallSummaryQuery(
                    tenantIDs: [tenant.id],
                    startedFrom: newest.addingTimeInterval(-11 * day),
                    startedBefore: newest.addingTimeInterval(-10 * day)
                )
            ),
            ("state live (1 %)", CallSummaryQuery(tenantIDs: [tenant.id], state: .live)),
            ("state interrupted (2 %)", CallSummaryQuery(tenantIDs: [tenant.id], state: .interrupted)),
            ("consent denied (1 %)", CallSummaryQuery(tenantIDs: [tenant.id], consentState: .denied)),
            ("consent denied, every tenant", CallSummaryQuery(consentState: .denied)),
        ]
        for (name, filter) in filters {
            var query = filter
            query.limit = 26
            // The deep page: the cursor of the 200th page of 25 of this filter (5,000 calls, half of the 1 %
            // filters' matches), found with one query.
            var deep = query
            deep.limit = 25 * 200
            let skipped = try catalog.callSummaries(matching: deep)
            deep.limit = 26
            deep.after = skipped.last.map { ($0.startedAt, $0.id) }
            for (label, page) in [("first page", query), ("page 201", deep)] {
                if ProcessInfo.processInfo.environment["CALLVAULT_CALL_PAGE_PLANS"] == "1" {
                    print("plan: \(name), \(label): \(try catalog.queryPlan(page))")
                }
                _ = try catalog.callSummaries(matching: page)  // warm
                var times: [Duration] = []
                var rows = 0
                for _ in 0..<5 {
                    let started = ContinuousClock.now
                    rows = try catalog.callSummaries(matching: page).count
                    times.append(ContinuousClock.now - started)
                }
                let median = times.sorted()[2]
                print(
                    "measured: \(name), \(label): median \(String(format: "%.2f", median.seconds * 1000)) ms of 5 (\(rows) rows)"
                )
            }
        }
    }
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension Catalog {
    /// SQLite's plan for a page's call query (`EXPLAIN QUERY PLAN`), one step a line.
    fileprivate func queryPlan(_ query: CallSummaryQuery) throws -> String {
        guard let (sql, arguments) = Self.callFilter(query) else { return "matches nothing" }
        return try read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
                .joined(separator: "; ")
        }
    }
}
