import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// Measurements of both audit backends, printed as `measured:` lines (not asserted: the figures of a
/// shared 2-core machine vary). Off unless `CALLVAULT_AUDIT_FIGURES=1`; `CALLVAULT_AUDIT_APPENDS` sets
/// how many entries each run appends (default 3,000). See `docs/store-postgres.md`.
@Suite(
    "Audit store figures",
    .enabled(
        if: ProcessInfo.processInfo.environment["CALLVAULT_AUDIT_FIGURES"] == "1",
        "measurements only: set CALLVAULT_AUDIT_FIGURES=1"
    ),
    .serialized,
    .timeLimit(.minutes(30))
)
struct AuditStoreFigures {
    @Test(arguments: Backend.all)
    func appendsPerSecond(_ backend: Backend) async throws {
        let total = ProcessInfo.processInfo.environment["CALLVAULT_AUDIT_APPENDS"].flatMap { Int($0) } ?? 3000
        for (appenders, nodes) in [(1, 1), (8, 1), (8, 2)] {
            try await AuditFixture.run(backend, maximumConnections: 10) { fixture in
                let store = fixture.store
                // A second node: another Catalog on the same file, or another PostgreSQL pool.
                let other = nodes == 2 ? try await fixture.openAnother() : nil
                let stores = [store] + (other.map { [$0.store] } ?? [])
                let each = total / appenders
                let started = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for appender in 0..<appenders {
                        let store = stores[appender % stores.count]
                        group.addTask {
                            for index in 0..<each {
                                _ = try await store.append(
                                    AuditEvent(
                                        actor: "measure",
                                        action: .recordingShredded,
                                        tenantID: "t\(appender)",
                                        subjectID: "r\(appender)-\(index)",
                                        details: ["reason": "expired"]
                                    )
                                )
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                await other?.close()
                let seconds = (ContinuousClock.now - started).figureSeconds
                let count = each * appenders
                let verifyStarted = ContinuousClock.now
                let verdict = try await store.verify()
                let verifySeconds = (ContinuousClock.now - verifyStarted).figureSeconds
                #expect(verdict.isIntact)
                #expect(try await store.entries().count == count)
                print(
                    "measured: \(backend) audit append, \(appenders) appender(s) on \(nodes) node(s): \(Int(Double(count) / seconds)) "
                        + "appends/s (\(count) entries in \(String(format: "%.2f", seconds)) s); verify of \(count) "
                        + "entries: \(String(format: "%.3f", verifySeconds)) s"
                )
            }
        }
    }
}

extension Duration {
    fileprivate var figureSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
