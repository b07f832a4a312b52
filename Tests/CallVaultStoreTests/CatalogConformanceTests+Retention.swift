import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// Legal hold, expiry and shredding of recordings and transcripts, and what a data subject's request
/// covers, through ``CatalogStore``, the same on SQLite and PostgreSQL.
extension CatalogConformance {
    @Suite("Catalog conformance: retention (SQLite and PostgreSQL)")
    struct CatalogRetentionConformanceTests {
        static let start = Date(timeIntervalSince1970: 1_800_000_000)
        static let dayLater = start.addingTimeInterval(86_400)


        @Test(arguments: Backend.all)
        func heldRecordingsAreNeverExpiredAndShreddingIsAuditedOnce(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant("a", policy: TenantPolicy(voiceDays: 1))
                let call = try await fixture.call(of: tenant)
                let caller = try await fixture.recording(of: call, .caller, createdAt: Self.start)
                let bot = try await fixture.recording(of: call, .bot, createdAt: Self.start)

                #expect(try await catalog.expiredRecordings(asOf: Self.start.addingTimeInterval(86_399)).isEmpty)
                #expect(try await catalog.expiredRecordings(asOf: Self.dayLater) == [caller, bot].sorted { $0.id < $1.id })

                let held = try await catalog.setHold(recordingID: bot.id, held: true, reason: "case 42", actor: "cli", at: Date())
                #expect(held.hold && held.holdReason == "case 42")
                #expect(try await catalog.recording(id: bot.id, tenantID: nil) == held)
                #expect(try await catalog.expiredRecordings(asOf: Self.dayLater) == [caller])
                let onHold = await catalogError { try await catalog.markRecordingShredded(id: bot.id, actor: "sweeper", at: Date()) }
                #expect(onHold?.code == .invalidArgument && onHold?.message.contains("hold") == true)
                #expect(try await catalog.recording(id: bot.id, tenantID: nil) == held, "a refusal changed it")

                try await catalog.markRecordingShredded(id: caller.id, actor: "sweeper", at: Self.dayLater)
                let shredded = try await catalog.recording(id: caller.id, tenantID: nil)
                #expect(shredded.state == .shredded && shredded.shreddedAt == Self.dayLater)
                #expect(try await catalog.expiredRecordings(asOf: Self.dayLater).isEmpty)
                let again = await catalogError { try await catalog.markRecordingShredded(id: caller.id, actor: "sweeper", at: Date()) }
                #expect(again?.code == .invalidArgument && again?.message.contains("already shredded") == true)
                let unknown = await catalogError { try await catalog.markRecordingShredded(id: "no-such", actor: "sweeper", at: Date()) }
                #expect(unknown?.code == .notFound)
                #expect(try await catalog.recording(id: caller.id, tenantID: nil) == shredded)

                let released = try await catalog.setHold(recordingID: bot.id, held: false, reason: nil, actor: "cli", at: Date())
                #expect(!released.hold && released.holdReason == nil)
                #expect(try await catalog.recording(id: bot.id, tenantID: nil) == released)
                #expect(try await catalog.expiredRecordings(asOf: Self.dayLater) == [released])

                let entries = try await catalog.audit.entries(tenantID: tenant.id)
                #expect(entries.filter { $0.action == .recordingShredded }.count == 1)
                #expect(entries.suffix(3).map(\.action) == [.holdSet, .recordingShredded, .holdCleared])
                #expect(entries.suffix(3).map(\.subjectId) == [bot.id, caller.id, bot.id])
                let shreddedEntry = entries.suffix(2).first
                #expect(shreddedEntry?.actor == "sweeper")
                #expect(
                    shreddedEntry?.details == "{\"expiresAt\":\"\(AuditLog.canonicalTime(caller.expiresAt))\"}",
                    "\(String(describing: shreddedEntry?.details))")
                #expect(entries.suffix(3).first?.details.contains("\"reason\":\"case 42\"") == true)
                #expect(try await catalog.audit.verify().isIntact)
            }
        }

        @Test(arguments: Backend.all)
        func aHoldIsRefusedForUnknownOrShreddedRecordingsAndOverlongReasons(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let call = try await fixture.call(of: try await fixture.tenant())
                let recording = try await fixture.recording(of: call, createdAt: Self.start)
                let gone = try await fixture.recording(of: call, .bot, createdAt: Self.start)
                try await catalog.markRecordingShredded(id: gone.id, actor: "sweeper", at: Date())
                let before = try await catalog.audit.entries().count

                let long = await catalogError {
                    try await catalog.setHold(
                        recordingID: recording.id, held: true, reason: String(repeating: "x", count: 501), actor: "cli",
                        at: Date())
                }
                #expect(long?.code == .invalidArgument)
                let unknown = await catalogError {
                    try await catalog.setHold(recordingID: "no-such", held: true, reason: nil, actor: "cli", at: Date())
                }
                #expect(unknown?.code == .notFound)
                let shredded = await catalogError {
                    try await catalog.setHold(recordingID: gone.id, held: true, reason: "late", actor: "cli", at: Date())
                }
                #expect(shredded?.code == .invalidArgument && shredded?.message.contains("shredded") == true)
                #expect(try await catalog.recording(id: recording.id, tenantID: nil) == recording)
                #expect(try await catalog.recording(id: gone.id, tenantID: nil).hold == false)
                #expect(try await catalog.audit.entries().count == before, "a refusal was audited")

                // A hold without a reason is audited without one.
                let held = try await catalog.setHold(recordingID: recording.id, held: true, reason: nil, actor: "cli", at: Date())
                #expect(held.hold && held.holdReason == nil)
                let entry = try #require(try await catalog.audit.entries().last)
                #expect(entry.action == .holdSet && entry.subjectId == recording.id && entry.details == "{}")
            }
        }

        @Test(arguments: Backend.all)
        func aBatchOfShreddingsMarksEachOnceAuditedInTheOrderGiven(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant("a", policy: TenantPolicy(voiceDays: 1))
                let call = try await fixture.call(of: tenant)
                let a = try await fixture.recording(of: call, createdAt: Self.start.addingTimeInterval(0))
                let b = try await fixture.recording(of: call, createdAt: Self.start.addingTimeInterval(1))
                let held = try await fixture.recording(of: call, createdAt: Self.start.addingTimeInterval(2))
                let done = try await fixture.recording(of: call, createdAt: Self.start.addingTimeInterval(3))
                let later = try await fixture.recording(of: call, createdAt: Self.start.addingTimeInterval(4))
                _ = try await catalog.setHold(recordingID: held.id, held: true, reason: "court", actor: "cli", at: Date())
                try await catalog.markRecordingShredded(id: done.id, actor: "sweeper", at: Date())
                #expect(try await catalog.markRecordingsShredded(ids: [], actor: "sweeper", reason: "expired", at: Date()) == 0)
                let before = try await catalog.audit.entries().count

                let at = Self.dayLater.addingTimeInterval(0.5)
                let marked = try await catalog.markRecordingsShredded(
                    ids: [b.id, a.id, "no-such", held.id, done.id, b.id], actor: "eraser", reason: "erased", at: at)
                #expect(marked == 2)
                for recording in [a, b] {
                    let stored = try await catalog.recording(id: recording.id, tenantID: nil)
                    #expect(stored.state == .shredded && stored.shreddedAt == at)
                }
                #expect(try await catalog.recording(id: held.id, tenantID: nil).state == .recording)
                let entries = Array(try await catalog.audit.entries().dropFirst(before))
                #expect(entries.map(\.action) == [.recordingShredded, .recordingShredded])
                #expect(entries.map(\.subjectId) == [b.id, a.id])
                #expect(entries.allSatisfy { $0.actor == "eraser" && $0.tenantId == tenant.id && $0.at == at })
                #expect(
                    entries.first?.details == "{\"expiresAt\":\"\(AuditLog.canonicalTime(b.expiresAt))\",\"reason\":\"erased\"}",
                    "\(String(describing: entries.first?.details))")
                // Shredded ones are never listed again; the held one is not listed; the rest is.
                #expect(try await catalog.expiredRecordings(asOf: Self.dayLater.addingTimeInterval(60)) == [later])

                #expect(try await catalog.markRecordingsShredded(ids: [a.id, b.id], actor: "sweeper", reason: "expired", at: Date()) == 0)
                #expect(try await catalog.audit.entries().count == before + 2, "a second batch audited again")
                #expect(try await catalog.audit.verify().isIntact)
            }
        }

        /// Inserts a transcript row as `insertTranscript` does: through the SQLite catalog, or by SQL on
        /// PostgreSQL (where `insertTranscript` is built in another branch).
        static func insert(_ transcript: TranscriptRecord, in fixture: CatalogFixture) async throws {
            guard let database = fixture.postgresDatabase else {
                try await fixture.catalog.insertTranscript(transcript, actor: "test")
                return
            }
            func time(_ date: Date) -> String { "'\(AuditLog.canonicalTime(date))+00'" }
            _ = try PostgresServer.shared().psql(
                database: database,
                """
                INSERT INTO transcripts (id, call_id, tenant_id, engine, path, state, created_at, expires_at)
                VALUES ('\(transcript.id)', '\(transcript.callId)', '\(transcript.tenantId)', '\(transcript.engine)',
                    '\(transcript.path)', '\(transcript.state.rawValue)', \(time(transcript.createdAt)),
                    \(time(transcript.expiresAt)))
                """)
        }

        static func transcript(_ id: String, of call: CallRecord, createdAfter: TimeInterval, expiresAfter: TimeInterval)
            -> TranscriptRecord
        {
            TranscriptRecord(
                id: id, callId: call.id, tenantId: call.tenantId, engine: "whisper", path: "\(id).cvt",
                createdAt: start.addingTimeInterval(createdAfter), expiresAt: start.addingTimeInterval(expiresAfter))
        }

        @Test(arguments: Backend.all)
        func expiredTranscriptsAreShreddedOnceEachAuditedAndNeverListedAgain(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                let otherCall = try await fixture.call(of: tenant)
                let first = Self.transcript("t-first", of: call, createdAfter: 0, expiresAfter: 10)
                let second = Self.transcript("t-second", of: call, createdAfter: 1, expiresAfter: 5)
                let fresh = Self.transcript("t-fresh", of: call, createdAfter: 2, expiresAfter: 100)
                let elsewhere = Self.transcript("t-elsewhere", of: otherCall, createdAfter: 3, expiresAfter: 20)
                for transcript in [first, second, fresh, elsewhere] { try await Self.insert(transcript, in: fixture) }

                let asOf = Self.start.addingTimeInterval(50)
                #expect(try await catalog.expiredTranscripts(asOf: asOf) == [second, first, elsewhere])
                #expect(try await catalog.expiredTranscripts(asOf: Self.start.addingTimeInterval(9)) == [second])
                #expect(try await catalog.markTranscriptsShredded(ids: [], actor: "sweeper", reason: "expired", at: asOf) == 0)
                let before = try await catalog.audit.entries().count

                let marked = try await catalog.markTranscriptsShredded(
                    ids: [first.id, "no-such", first.id, elsewhere.id], actor: "sweeper", reason: "expired", at: asOf)
                #expect(marked == 2)
                let entries = Array(try await catalog.audit.entries().dropFirst(before))
                #expect(entries.map(\.action) == ["transcript.shredded", "transcript.shredded"])
                #expect(entries.map(\.subjectId) == [first.id, elsewhere.id])
                #expect(entries.allSatisfy { $0.tenantId == tenant.id && $0.actor == "sweeper" && $0.details == "{\"reason\":\"expired\"}" })
                #expect(try await catalog.expiredTranscripts(asOf: asOf) == [second], "a shredded transcript was listed again")

                #expect(try await catalog.markTranscriptsShredded(ids: [first.id], actor: "sweeper", reason: "expired", at: asOf) == 0)
                #expect(try await catalog.audit.entries().count == before + 2, "shredding twice audited twice")

                var shredded = first
                shredded.state = .shredded
                shredded.shreddedAt = asOf
                // Every state, in call order, by creation within a call.
                let expected = [call.id, otherCall.id].sorted().flatMap { id in
                    id == call.id ? [shredded, second, fresh] : [elsewhere.with(state: .shredded, at: asOf)]
                }
                #expect(try await catalog.transcripts(inCalls: [otherCall.id, call.id]) == expected)
                #expect(try await catalog.transcripts(inCalls: [call.id]) == [shredded, second, fresh])
                #expect(try await catalog.transcripts(inCalls: []).isEmpty)
                #expect(try await catalog.transcripts(inCalls: ["no-such"]).isEmpty)
                #expect(try await catalog.audit.verify().isIntact)
            }
        }

        @Test(arguments: Backend.all)
        func recordingsInCallsCoverEveryStateInCallAndTrackOrder(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let first = try await fixture.call(of: tenant)
                let second = try await fixture.call(of: tenant)
                let ignored = try await fixture.call(of: tenant)
                var made: [RecordingRecord] = []
                for (call, track, seconds) in [
                    (first, RecordingTrack.caller, 5.0), (second, .bot, 0), (first, .bot, 1), (first, .caller, 2),
                    (second, .caller, 3),
                ] {
                    made.append(try await fixture.recording(of: call, track, createdAt: Self.start.addingTimeInterval(seconds)))
                }
                _ = try await fixture.recording(of: ignored, createdAt: Self.start)
                try await catalog.markRecordingShredded(id: made[1].id, actor: "sweeper", at: Self.dayLater)
                made[1] = try await catalog.recording(id: made[1].id, tenantID: nil)
                #expect(made[1].state == .shredded)

                let expected = made.sorted {
                    ($0.callId, $0.track.rawValue, $0.createdAt) < ($1.callId, $1.track.rawValue, $1.createdAt)
                }
                #expect(try await catalog.recordings(inCalls: [second.id, first.id]) == expected)
                #expect(try await catalog.recordings(inCalls: [first.id]) == expected.filter { $0.callId == first.id })
                #expect(try await catalog.recordings(inCalls: []).isEmpty)
                #expect(try await catalog.recordings(inCalls: ["no-such"]).isEmpty)
            }
        }
    }
}

extension TranscriptRecord {
    fileprivate func with(state: State, at: Date) -> TranscriptRecord {
        var copy = self
        copy.state = state
        copy.shreddedAt = at
        return copy
    }
}
