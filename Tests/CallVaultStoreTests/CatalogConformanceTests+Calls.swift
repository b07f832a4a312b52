import CallVaultCrypto
import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// The catalog's calls and consent evidence through ``CatalogStore``, the same on SQLite and PostgreSQL:
/// ending a call, finding calls, listing them, consent events and evidence, limits, with the audit
/// entries each writes and the refusals that change nothing.
extension CatalogConformance {
    @Suite("Catalog conformance: calls and consent evidence (SQLite and PostgreSQL)")
    struct CatalogCallsConformanceTests {
        @Test(arguments: Backend.all)
        func anEndedCallKeepsItsEndAndThePauseItsEndClosed(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                let other = try await fixture.call(of: tenant)
                let entriesBefore = try await catalog.audit.entries().count
                let end = Date().addingTimeInterval(60)
                try await catalog.endCall(id: call.id, closingPause: PausedSpan(startMs: 5000, endMs: 9000), at: end)
                try await catalog.endCall(id: other.id, closingPause: nil, at: end)
                let ended = try await catalog.call(id: call.id, tenantID: nil)
                #expect(ended.endedAt.map { abs($0.timeIntervalSince(end)) < 0.001 } == true, "\(String(describing: ended.endedAt))")
                #expect(ended.startedAt == call.startedAt)
                #expect(try await fixture.pausedSpanRows(callID: call.id) == [PausedSpan(startMs: 5000, endMs: 9000)])
                #expect(try await fixture.pausedSpanRows(callID: other.id).isEmpty)
                #expect(try await catalog.call(id: other.id, tenantID: nil).endedAt != nil)
                // Neither backend audits the end of a call (its consent events and recordings are).
                #expect(try await catalog.audit.entries().count == entriesBefore)
            }
        }

        @Test(arguments: Backend.all)
        func endingAnUnknownCallOrWithABackwardPauseIsRefusedAndChangesNothing(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                let unknown = await catalogError {
                    try await catalog.endCall(id: "no-such", closingPause: PausedSpan(startMs: 0, endMs: 10), at: Date())
                }
                #expect(unknown?.code == .notFound, "\(String(describing: unknown))")
                let backward = await catalogError {
                    try await catalog.endCall(id: call.id, closingPause: PausedSpan(startMs: 9000, endMs: 5000), at: Date())
                }
                #expect(backward?.code == .invalidArgument, "\(String(describing: backward))")
                let negative = await catalogError {
                    try await catalog.endCall(id: call.id, closingPause: PausedSpan(startMs: -1, endMs: 5000), at: Date())
                }
                #expect(negative?.code == .invalidArgument, "\(String(describing: negative))")
                #expect(try await catalog.call(id: call.id, tenantID: nil).endedAt == nil)
                #expect(try await fixture.rowCount("paused_spans") == 0)
            }
        }

        @Test(arguments: Backend.all)
        func callsAreFoundByPlatformIdAcrossTenantsIgnoringTheCaseOfASCIILettersOnly(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let a = try await fixture.tenant("a")
                let b = try await fixture.tenant("b")
                let start = Date()
                func register(_ tenant: Tenant, _ externalID: String, after seconds: Double) async throws -> CallRecord {
                    try await catalog.registerCall(
                        tenantID: tenant.id, externalID: externalID, callerNumber: nil,
                        startedAt: start.addingTimeInterval(seconds), actor: "test", callerKeys: nil)
                }
                let later = try await register(a, "ca-uuid-1", after: 10)
                let earlier = try await register(b, "CA-UUID-1", after: 5)
                _ = try await register(a, "CA-UUID-2", after: 0)
                let accented = try await register(a, "call-É", after: 0)
                // Oldest first, whichever tenant registered it.
                #expect(try await catalog.calls(externalID: "Ca-Uuid-1") == [earlier, later])
                #expect(try await catalog.calls(externalID: "ca-uuid-1") == [earlier, later])
                #expect(try await catalog.calls(externalID: "CA-UUID").isEmpty)
                #expect(try await catalog.calls(externalID: "no-such").isEmpty)
                // SQLite's NOCASE folds ASCII letters only: a non-ASCII letter matches only as it is.
                #expect(try await catalog.calls(externalID: "CALL-É") == [accented])
                #expect(try await catalog.calls(externalID: "call-é").isEmpty)
            }
        }

        @Test(arguments: Backend.all)
        func aCallersCallsAreFoundThroughTheTenantsKeyedHashOnly(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let a = try await fixture.tenant("a")
                let b = try await fixture.tenant("b")
                let keysA = CallerKeys(hashKey: try SecretKey(randomByteCount: 32), encryptionKey: try SecretKey(randomByteCount: 32))
                let keysB = CallerKeys(hashKey: try SecretKey(randomByteCount: 32), encryptionKey: try SecretKey(randomByteCount: 32))
                let number = "+49 30 90182736"
                let start = Date()
                func register(_ tenant: Tenant, _ externalID: String, _ number: String?, _ keys: CallerKeys, after: Double)
                    async throws -> CallRecord
                {
                    try await catalog.registerCall(
                        tenantID: tenant.id, externalID: externalID, callerNumber: number,
                        startedAt: start.addingTimeInterval(after), actor: "test", callerKeys: keys)
                }
                let second = try await register(a, "CA2", number, keysA, after: 10)
                let first = try await register(a, "CA1", "+4930-90182736", keysA, after: 0)
                _ = try await register(a, "CA3", "+49 30 90182737", keysA, after: 20)
                _ = try await register(a, "CA4", nil, keysA, after: 30)
                let theirs = try await register(b, "CB1", number, keysB, after: 0)
                // The same caller, formatting aside, oldest first.
                #expect(try await catalog.calls(tenantID: a.id, callerNumber: "+493090182736", callerKeys: keysA) == [first, second])
                #expect(try await catalog.calls(tenantID: b.id, callerNumber: number, callerKeys: keysB) == [theirs])
                #expect(try await catalog.calls(tenantID: a.id, callerNumber: "+493090182738", callerKeys: keysA).isEmpty)
                // Another tenant's keys, or another tenant, find nothing: the hash is keyed per tenant.
                #expect(try await catalog.calls(tenantID: a.id, callerNumber: number, callerKeys: keysB).isEmpty)
                #expect(try await catalog.calls(tenantID: b.id, callerNumber: number, callerKeys: keysA).isEmpty)
                let unknown = await catalogError {
                    try await catalog.calls(tenantID: "no-such", callerNumber: number, callerKeys: keysA)
                }
                #expect(unknown?.code == .notFound, "\(String(describing: unknown))")
                let malformed = await catalogError {
                    try await catalog.calls(tenantID: a.id, callerNumber: "+49 30 x123", callerKeys: keysA)
                }
                #expect(malformed?.code == .invalidArgument, "\(String(describing: malformed))")
                #expect(malformed?.message.contains("x123") == false)
            }
        }

        @Test(arguments: Backend.all)
        func consentEventsAreStoredInOrderAndEachIsAuditedWithItsPosition(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                let other = try await fixture.call(of: tenant)
                let at = Date()
                let disclosure = try await catalog.recordConsentEvent(
                    callID: call.id, kind: .disclosure, method: .api, at: at, frameIndex: 10, timelineMs: 200, actor: "test")
                let consent = try await catalog.recordConsentEvent(
                    callID: call.id, kind: .consent, method: .dtmf, at: at.addingTimeInterval(3), frameIndex: 150,
                    timelineMs: 3000, actor: "recorder")
                let pause = try await catalog.recordConsentEvent(
                    callID: call.id, kind: .pause, method: .pipeline, at: at.addingTimeInterval(5), frameIndex: nil,
                    timelineMs: nil, actor: "recorder")
                _ = try await catalog.recordConsentEvent(
                    callID: other.id, kind: .deny, method: .verbal, at: at, frameIndex: nil, timelineMs: 0, actor: "test")
                #expect(disclosure.id != nil && consent.id != nil && pause.id != nil)
                #expect(disclosure.callId == call.id && consent.kind == .consent && consent.method == .dtmf)
                #expect(consent.frameIndex == 150 && consent.timelineMs == 3000 && pause.frameIndex == nil)
                #expect(abs(disclosure.at.timeIntervalSince(at)) < 0.001)
                // Read back equal, in the order recorded, only this call's.
                #expect(try await catalog.consentEvents(callID: call.id) == [disclosure, consent, pause])
                #expect(try await catalog.consentEvents(callID: other.id).map(\.kind) == [.deny])
                #expect(try await catalog.consentEvents(callID: "no-such").isEmpty)

                let entries = try await catalog.audit.entries().filter { $0.action == .consentEvent }
                #expect(entries.map(\.subjectId) == [call.id, call.id, call.id, other.id])
                #expect(entries.allSatisfy { $0.tenantId == tenant.id })
                #expect(entries.map(\.actor) == ["test", "recorder", "recorder", "test"])
                #expect(entries[0].detailValues == ["kind": "disclosure", "method": "api", "frameIndex": "10", "timelineMs": "200"])
                #expect(entries[1].detailValues == ["kind": "consent", "method": "dtmf", "frameIndex": "150", "timelineMs": "3000"])
                #expect(entries[2].detailValues == ["kind": "pause", "method": "pipeline"])
                #expect(entries[3].detailValues == ["kind": "deny", "method": "verbal", "timelineMs": "0"])
                #expect(try await catalog.audit.verify().isIntact)
            }
        }

        @Test(arguments: Backend.all)
        func aConsentEventForAnUnknownCallOrAtANegativePositionIsRefusedAndChangesNothing(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                let entriesBefore = try await catalog.audit.entries()
                let unknown = await catalogError {
                    try await catalog.recordConsentEvent(
                        callID: "no-such", kind: .consent, method: .api, at: Date(), frameIndex: nil, timelineMs: 10,
                        actor: "test")
                }
                #expect(unknown?.code == .notFound, "\(String(describing: unknown))")
                for (frameIndex, timelineMs) in [(Int64(-1), Int64(10)), (Int64(1), Int64(-10))] {
                    let negative = await catalogError {
                        try await catalog.recordConsentEvent(
                            callID: call.id, kind: .consent, method: .api, at: Date(), frameIndex: frameIndex,
                            timelineMs: timelineMs, actor: "test")
                    }
                    #expect(negative?.code == .invalidArgument, "\(frameIndex), \(timelineMs): \(String(describing: negative))")
                }
                #expect(try await catalog.consentEvents(callID: call.id).isEmpty)
                #expect(try await fixture.rowCount("consent_events") == 0)
                #expect(try await catalog.audit.entries() == entriesBefore)
            }
        }

        @Test(arguments: Backend.all)
        func consentEvidenceIsStoredWithItsAuditEntriesAndClosedPausesInOrder(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                let at = Date()
                let stored = try await catalog.recordConsentEvidence(
                    callID: call.id,
                    [
                        ConsentEvidence(kind: .consent, method: .dtmf, timelineMs: 3000),
                        ConsentEvidence(kind: .pause, method: .api, timelineMs: 5000),
                        ConsentEvidence(
                            kind: .resume, method: .api, timelineMs: 9000, closedPause: PausedSpan(startMs: 5000, endMs: 9000)),
                    ],
                    actor: "recorder", at: at)
                #expect(stored.map(\.kind) == [.consent, .pause, .resume])
                #expect(stored.map(\.timelineMs) == [3000, 5000, 9000] && stored.allSatisfy { $0.frameIndex == nil })
                #expect(stored.allSatisfy { $0.id != nil && abs($0.at.timeIntervalSince(at)) < 0.001 })
                #expect(try await catalog.consentEvents(callID: call.id) == stored)
                #expect(try await fixture.pausedSpanRows(callID: call.id) == [PausedSpan(startMs: 5000, endMs: 9000)])
                let entries = try await catalog.audit.entries().filter { $0.action == .consentEvent }
                #expect(entries.map { $0.detailValues["kind"] } == ["consent", "pause", "resume"])
                #expect(entries.map { $0.detailValues["timelineMs"] } == ["3000", "5000", "9000"])
                #expect(entries.allSatisfy { $0.subjectId == call.id && $0.tenantId == tenant.id && $0.actor == "recorder" })
                #expect(entries.allSatisfy { $0.detailValues["frameIndex"] == nil })
                #expect(try await catalog.audit.verify().isIntact)
                // Nothing to store is fine for a known call, and refused for an unknown one.
                #expect(try await catalog.recordConsentEvidence(callID: call.id, [], actor: "recorder", at: at).isEmpty)
                let unknown = await catalogError {
                    try await catalog.recordConsentEvidence(
                        callID: "no-such", [ConsentEvidence(kind: .consent, method: .api, timelineMs: 1)], actor: "recorder",
                        at: at)
                }
                #expect(unknown?.code == .notFound, "\(String(describing: unknown))")
                let unknownEmpty = await catalogError {
                    try await catalog.recordConsentEvidence(callID: "no-such", [], actor: "recorder", at: at)
                }
                #expect(unknownEmpty?.code == .notFound, "\(String(describing: unknownEmpty))")
                #expect(try await fixture.rowCount("consent_events") == 3)
            }
        }

        @Test(arguments: Backend.all)
        func consentEvidenceWithAnInvalidSecondItemStoresNothing(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                let entriesBefore = try await catalog.audit.entries()
                let first = ConsentEvidence(kind: .consent, method: .dtmf, timelineMs: 3000)
                for second in [
                    ConsentEvidence(kind: .resume, method: .api, timelineMs: 9000, closedPause: PausedSpan(startMs: 9000, endMs: 5000)),
                    ConsentEvidence(kind: .resume, method: .api, timelineMs: 9000, closedPause: PausedSpan(startMs: -5, endMs: 5000)),
                    ConsentEvidence(kind: .pause, method: .api, timelineMs: -1),
                ] {
                    let error = await catalogError {
                        try await catalog.recordConsentEvidence(callID: call.id, [first, second], actor: "recorder", at: Date())
                    }
                    #expect(error?.code == .invalidArgument, "\(second): \(String(describing: error))")
                }
                #expect(try await catalog.consentEvents(callID: call.id).isEmpty)
                #expect(try await fixture.pausedSpanRows(callID: call.id).isEmpty)
                #expect(try await catalog.audit.entries() == entriesBefore)
            }
        }

        @Test(arguments: Backend.all)
        func consentEvidenceWhoseSecondItemFailsInTheDatabaseStoresNothing(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                // The database itself refuses the second item's paused span, after the first item (its event,
                // and on SQLite its audit entry) was written in the same transaction.
                try fixture.runSQL(
                    """
                    CREATE TRIGGER test_refuse_span BEFORE INSERT ON paused_spans WHEN NEW.start_ms = 4242
                    BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
                    """,
                    postgres: """
                        CREATE FUNCTION test_refuse_span() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN IF NEW.start_ms = 4242 THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$;
                        CREATE TRIGGER test_refuse_span BEFORE INSERT ON paused_spans
                            FOR EACH ROW EXECUTE FUNCTION test_refuse_span();
                        """)
                let entriesBefore = try await catalog.audit.entries()
                let error = await catalogError {
                    try await catalog.recordConsentEvidence(
                        callID: call.id,
                        [
                            ConsentEvidence(kind: .consent, method: .dtmf, timelineMs: 3000),
                            ConsentEvidence(
                                kind: .resume, method: .api, timelineMs: 9000, closedPause: PausedSpan(startMs: 4242, endMs: 9000)),
                        ],
                        actor: "recorder", at: Date())
                }
                #expect(error != nil, "the database refused the second item, but the evidence was reported stored")
                #expect(try await catalog.consentEvents(callID: call.id).isEmpty)
                #expect(try await fixture.pausedSpanRows(callID: call.id).isEmpty)
                #expect(try await catalog.audit.entries() == entriesBefore)
                #expect(try await catalog.audit.verify().isIntact)
                // The same evidence without the refused span is stored whole.
                let stored = try await catalog.recordConsentEvidence(
                    callID: call.id,
                    [
                        ConsentEvidence(kind: .consent, method: .dtmf, timelineMs: 3000),
                        ConsentEvidence(
                            kind: .resume, method: .api, timelineMs: 9000, closedPause: PausedSpan(startMs: 4243, endMs: 9000)),
                    ],
                    actor: "recorder", at: Date())
                #expect(stored.count == 2)
                #expect(try await catalog.audit.entries().count == entriesBefore.count + 2)
            }
        }

        @Test(arguments: Backend.all)
        func aCallEndedByALimitIsAuditedUnderItsTenant(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                let entry = try await catalog.recordCallEndedByLimit(
                    callID: call.id, limit: "idleTimeout", details: ["limitMs": "30000", "limit": "overwritten"],
                    actor: "ingest", at: Date())
                #expect(entry.action == .callEndedByLimit && entry.action.rawValue == "call.ended_by_limit")
                #expect(entry.actor == "ingest" && entry.tenantId == tenant.id && entry.subjectId == call.id)
                #expect(entry.details == #"{"limit":"idleTimeout","limitMs":"30000"}"#, "canonical: sorted keys, no spaces")
                #expect(try await catalog.audit.entries().last == entry)
                #expect(try await catalog.audit.verify().isIntact)
                let count = try await catalog.audit.entries().count
                let unknown = await catalogError {
                    try await catalog.recordCallEndedByLimit(
                        callID: "no-such", limit: "idleTimeout", details: [:], actor: "ingest", at: Date())
                }
                #expect(unknown?.code == .notFound, "\(String(describing: unknown))")
                #expect(try await catalog.audit.entries().count == count)
            }
        }

        @Test(arguments: Backend.all)
        func callSummariesListNewestFirstWithTheirConsentStateAndRecordings(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let optIn = try await fixture.tenant("a")
                let notRequired = try await fixture.tenant("b", policy: TenantPolicy(consentMode: .notRequired))
                let start = Date()
                func register(_ tenant: Tenant, _ externalID: String, after: Double) async throws -> CallRecord {
                    try await catalog.registerCall(
                        tenantID: tenant.id, externalID: externalID, callerNumber: nil,
                        startedAt: start.addingTimeInterval(after), actor: "test", callerKeys: nil)
                }
                let paused = try await register(optIn, "CA1", after: 0)
                let granted = try await register(optIn, "CA2", after: 10)
                let pending = try await register(optIn, "CA3", after: 20)
                let theirs = try await register(notRequired, "CA1", after: 15)
                for (kind, ms) in [(ConsentEventKind.disclosure, Int64(200)), (.consent, 3000), (.pause, 5000)] {
                    _ = try await catalog.recordConsentEvent(
                        callID: paused.id, kind: kind, method: .api, at: start, frameIndex: nil, timelineMs: ms, actor: "test")
                }
                _ = try await catalog.recordConsentEvidence(
                    callID: granted.id,
                    [
                        ConsentEvidence(kind: .consent, method: .dtmf, timelineMs: 1000),
                        ConsentEvidence(kind: .pause, method: .api, timelineMs: 2000),
                        ConsentEvidence(kind: .resume, method: .api, timelineMs: 3000),
                    ],
                    actor: "test", at: start)
                try await catalog.endCall(id: granted.id, closingPause: nil, at: start.addingTimeInterval(60))
                try await fixture.insertRecordingRow(id: "rec-2-bot", call: granted, track: .bot, createdAt: start)
                try await fixture.insertRecordingRow(id: "rec-2-caller", call: granted, track: .caller, createdAt: start)
                try await fixture.insertRecordingRow(id: "rec-b", call: theirs, track: .caller, state: .shredded)

                let all = try await catalog.callSummaries(tenantID: nil, limit: nil)
                #expect(all.map(\.id) == [pending.id, theirs.id, granted.id, paused.id])
                #expect(all.map(\.consentState) == [.pending, .notRequired, .granted, .paused])
                #expect(all.map(\.consentEvents) == [0, 0, 3, 3])
                #expect(all.map { $0.recordings.map(\.id) } == [[], ["rec-b"], ["rec-2-bot", "rec-2-caller"], []])
                #expect(all[1].recordings.first?.state == .shredded && all[2].recordings.first?.track == .bot)
                #expect(all[2].recordings.allSatisfy { $0.tenantId == optIn.id && $0.callId == granted.id && $0.codec == .g711u })
                #expect(all[2].endedAt != nil && all[0].endedAt == nil && all[3].externalId == "CA1")
                #expect(abs(all[3].startedAt.timeIntervalSince(start)) < 0.001 && all[3].tenantId == optIn.id)
                // One tenant's, newest first; at most `limit`.
                let mine = try await catalog.callSummaries(tenantID: optIn.id, limit: nil)
                #expect(mine.map(\.id) == [pending.id, granted.id, paused.id])
                #expect(try await catalog.callSummaries(tenantID: optIn.id, limit: 2).map(\.id) == [pending.id, granted.id])
                #expect(try await catalog.callSummaries(tenantID: nil, limit: 1).map(\.id) == [pending.id])
                #expect(try await catalog.callSummaries(tenantID: nil, limit: 0).isEmpty)
                #expect(try await catalog.callSummaries(tenantID: "no-such", limit: nil).isEmpty)
                // The same summaries whichever way they are asked for.
                #expect(try await catalog.callSummaries(tenantID: notRequired.id, limit: 5) == [all[1]])
            }
        }
    }
}
