import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// The console's call list filtered by state and consent outcome in SQL (`calls.consent_state`, kept with
/// the events), the same on SQLite and PostgreSQL.
extension CatalogConformance {
    @Suite("Catalog conformance: call pages filtered by state and consent (SQLite and PostgreSQL)")
    struct CatalogCallFiltersConformanceTests {
        /// What a test call was given, to compute the expected pages.
        struct Made {
            let call: CallRecord
            let consent: CallConsentState
            let ended: Bool
            let interrupted: Bool
        }

        @Test(arguments: Backend.all)
        func everyFilterReturnsExactlyTheMatchingCallsAcrossPages(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                let free = try await fixture.tenant("free", policy: TenantPolicy(consentMode: .notRequired))
                let start = Date(timeIntervalSince1970: 1_800_000_000)
                var made: [Made] = []
                for index in 0..<24 {
                    let tenant = index % 8 == 7 ? free : acme
                    // Pairs share a start time: the cursor's tie-break on the id is exercised under every filter.
                    let call = try await catalog.registerCall(
                        tenantID: tenant.id,
                        externalID: "CA-\(index)",
                        callerNumber: nil,
                        startedAt: start.addingTimeInterval(Double(index / 2) * 60),
                        actor: "test",
                        callerKeys: nil
                    )
                    var consent: CallConsentState = tenant.id == free.id ? .notRequired : .pending
                    if tenant.id == acme.id {
                        switch index % 5 {
                        case 0:
                            _ = try await catalog.recordConsentEvent(
                                callID: call.id,
                                kind: .deny,
                                method: .dtmf,
                                at: Date(),
                                frameIndex: nil,
                                timelineMs: 10,
                                actor: "test"
                            )
                            consent = .denied
                        case 1:
                            _ = try await catalog.recordConsentEvidence(
                                callID: call.id,
                                [
                                    ConsentEvidence(kind: .disclosure, method: .api, timelineMs: 0),
                                    ConsentEvidence(kind: .consent, method: .dtmf, timelineMs: 10),
                                ],
                                actor: "test",
                                at: Date()
                            )
                            consent = .granted
                        case 2:
                            _ = try await catalog.recordConsentEvidence(
                                callID: call.id,
                                [
                                    ConsentEvidence(kind: .consent, method: .dtmf, timelineMs: 10),
                                    ConsentEvidence(kind: .pause, method: .api, timelineMs: 20),
                                ],
                                actor: "test",
                                at: Date()
                            )
                            consent = .paused
                        case 3:
                            for (kind, ms) in [(ConsentEventKind.consent, Int64(10)), (.pause, 20), (.resume, 30)] {
                                _ = try await catalog.recordConsentEvent(
                                    callID: call.id,
                                    kind: kind,
                                    method: .api,
                                    at: Date(),
                                    frameIndex: nil,
                                    timelineMs: ms,
                                    actor: "test"
                                )
                            }
                            consent = .granted
                        default: break
                        }
                    }
                    let interrupted = index % 3 == 0
                    let recording = try await catalog.createRecording(
                        id: nil,
                        callID: call.id,
                        track: .caller,
                        codec: .opus,
                        sampleRate: 48_000,
                        path: "\(index).cvr",
                        createdAt: call.startedAt,
                        node: nil,
                        storage: nil
                    )
                    try await catalog.finishRecording(
                        id: recording.id,
                        state: interrupted ? .interrupted : .complete,
                        durationMs: 1_000,
                        bytes: 100
                    )
                    let ended = index % 2 == 0
                    if ended {
                        try await catalog.endCall(
                            id: call.id,
                            closingPause: nil,
                            at: call.startedAt.addingTimeInterval(30)
                        )
                    }
                    made.append(Made(call: call, consent: consent, ended: ended, interrupted: interrupted))
                }

                func pages(_ query: CallSummaryQuery) async throws -> [CallSummary] {
                    var query = query
                    query.limit = 3
                    var seen: [CallSummary] = []
                    while true {
                        let page = try await catalog.callSummaries(matching: query)
                        seen += page
                        guard page.count == 3, let last = page.last else { return seen }
                        query.after = (last.startedAt, last.id)
                    }
                }
                let newestFirst = made.sorted { ($0.call.startedAt, $1.call.id) > ($1.call.startedAt, $0.call.id) }
                for tenants in [nil, [acme.id], [acme.id, free.id]] as [[String]?] {
                    for state in [nil] + CallListState.allCases.map(Optional.some) {
                        for consent in [nil]
                            + [CallConsentState.pending, .granted, .denied, .paused, .notRequired, .revoked]
                            .map(Optional.some)
                        {
                            let query = CallSummaryQuery(
                                tenantIDs: tenants,
                                startedFrom: start.addingTimeInterval(60),
                                state: state,
                                consentState: consent
                            )
                            let expected = newestFirst.filter { made in
                                guard tenants?.contains(made.call.tenantId) ?? true,
                                    made.call.startedAt >= query.startedFrom!
                                else { return false }
                                if let consent, made.consent != consent { return false }
                                switch state {
                                case nil: return true
                                case .live: return !made.ended
                                case .ended: return made.ended
                                case .complete: return !made.interrupted
                                case .interrupted: return made.interrupted
                                case .shredded: return false
                                }
                            }
                            let found = try await pages(query)
                            #expect(
                                found.map(\.id) == expected.map(\.call.id),
                                "tenants \(tenants ?? []), state \(state?.rawValue ?? "any"), consent \(consent?.rawValue ?? "any")"
                            )
                            for summary in found {
                                #expect(summary.consentState == expected.first { $0.call.id == summary.id }?.consent)
                            }
                        }
                    }
                }
                #expect(
                    try await catalog.callSummaries(matching: CallSummaryQuery(consentState: .denied)).count
                        == made.filter { $0.consent == .denied }.count
                )
                // Only some calls (a caller's, found by number), with a filter over them.
                let some = [made[0].call.id, made[1].call.id, made[5].call.id]
                let picked = try await catalog.callSummaries(
                    matching: CallSummaryQuery(consentState: .denied, callIDs: some)
                )
                #expect(
                    Set(picked.map(\.id))
                        == Set(made.filter { some.contains($0.call.id) && $0.consent == .denied }.map(\.call.id))
                )
                #expect(try await catalog.callSummaries(matching: CallSummaryQuery(callIDs: [])).isEmpty)

                // The migration's backfill (SQLite v19, PostgreSQL 20) folds the stored events the same way.
                switch backend {
                case .sqlite:
                    try (catalog as! Catalog).write { db in
                        try db.execute(sql: "UPDATE calls SET consent_state = 'pending'")
                        try Catalog.backfillConsentStates(db)
                    }
                case .postgres:
                    let statements = try #require(PostgresSchema.migrations.first { $0.version == 20 }).statements
                    _ = try PostgresServer.shared().psql(
                        database: try #require(fixture.postgresDatabase),
                        "UPDATE calls SET consent_state = 'pending'; \(statements[1]); \(statements[2])"
                    )
                }
                let backfilled = try await catalog.callSummaries(matching: CallSummaryQuery())
                #expect(backfilled.count == made.count)
                for summary in backfilled {
                    #expect(summary.consentState == made.first { $0.call.id == summary.id }?.consent, "backfilled")
                }
            }
        }
    }
}
