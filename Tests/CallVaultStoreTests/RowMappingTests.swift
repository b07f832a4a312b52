import CallVaultModel
import Foundation
import GRDB
import Testing

@testable import CallVaultStore

/// The model's records are plain `Codable` values; the store maps them to rows through internal
/// wrappers. These tests pin what that mapping writes (enums as their raw text, dates as SQLite text
/// with milliseconds, exactly as before the records left the store) and that every record reads back
/// equal, ids assigned by SQLite included.
@Suite struct RowMappingTests {
    @Test func enumsAndDatesAreStoredAsPlainText() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let policy = TenantPolicy(consentMode: .optOut, codec: .opus)
        let tenant = try catalog.addTenant(name: "acme", policy: policy).tenant
        let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA1")
        let recording = try catalog.createRecording(
            callID: call.id, track: .bot, codec: .g711a, sampleRate: 8000, path: "r.cvr")
        try catalog.recordConsentEvent(callID: call.id, kind: .consent, method: .dtmf, timelineMs: 1200)
        let job = try catalog.enqueueJob(callID: call.id, recordingID: recording.id, engine: "pocketsphinx")
        let transcript = TranscriptRecord(
            id: "t1", callId: call.id, tenantId: tenant.id, engine: "pocketsphinx", path: "t.cvr",
            createdAt: Date().catalogPrecision, expiresAt: Date().addingTimeInterval(86_400).catalogPrecision)
        try catalog.insertTranscript(transcript, actor: "test")

        let rows = try catalog.pool.read { db in
            (
                tenant: try Row.fetchOne(db, sql: "SELECT consent_mode, codec FROM tenants"),
                recording: try Row.fetchOne(
                    db, sql: "SELECT track, state, codec, created_at, typeof(state) AS type FROM recordings"),
                event: try Row.fetchOne(db, sql: "SELECT kind, method, at FROM consent_events"),
                job: try Row.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [job.id]),
                transcript: try Row.fetchOne(db, sql: "SELECT state FROM transcripts"),
                actions: try String.fetchAll(db, sql: "SELECT action FROM audit_log ORDER BY seq")
            )
        }
        #expect(rows.tenant?["consent_mode"] == "opt-out")
        #expect(rows.tenant?["codec"] == "opus")
        #expect(rows.recording?["track"] == "bot")
        #expect(rows.recording?["state"] == "recording")
        #expect(rows.recording?["codec"] == "g711a")
        #expect(rows.recording?["type"] == "text")
        #expect(rows.event?["kind"] == "consent")
        #expect(rows.event?["method"] == "dtmf")
        #expect(rows.job?["state"] == "queued")
        #expect(rows.transcript?["state"] == "complete")
        #expect(rows.actions.contains("transcript.created"))
        let createdAt: String = try #require(rows.recording?["created_at"])
        #expect(createdAt.wholeMatch(of: /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}/) != nil, "\(createdAt)")
    }

    @Test func everyRecordReadsBackEqual() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let tenant = try catalog.addTenant(name: "acme").tenant
        let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA1")
        #expect(try catalog.call(id: call.id) == call)
        #expect(try catalog.call(tenantID: tenant.id, externalID: "CA1") == call)

        let recording = try catalog.createRecording(
            callID: call.id, track: .caller, codec: .g711u, sampleRate: 8000, path: "r.cvr")
        #expect(try catalog.recording(id: recording.id) == recording)
        let held = try catalog.setHold(recordingID: recording.id, held: true, reason: "court")
        #expect(held.hold && held.holdReason == "court")
        #expect(try catalog.recording(id: recording.id) == held)

        let first = try catalog.recordConsentEvent(callID: call.id, kind: .disclosure, method: .pipeline)
        let second = try catalog.recordConsentEvent(
            callID: call.id, kind: .consent, method: .dtmf, frameIndex: 60, timelineMs: 1200)
        #expect(first.id != nil && second.id != nil && first.id != second.id)
        #expect(try catalog.consentEvents(callID: call.id) == [first, second])

        let open = try catalog.addPausedSpan(callID: call.id, recordingID: recording.id, startMs: 2000)
        let spanID = try #require(open.id)
        try catalog.closePausedSpan(id: spanID, endMs: 3500)
        var closed = open
        closed.endMs = 3500
        #expect(try catalog.pausedSpans(callID: call.id) == [closed])

        let job = try catalog.enqueueJob(callID: call.id, recordingID: recording.id, engine: "pocketsphinx")
        #expect(try catalog.jobs() == [job])
        #expect(try catalog.jobs(state: .queued) == [job])
        #expect(try catalog.jobs(state: .done).isEmpty)

        let now = Date().catalogPrecision
        let transcript = TranscriptRecord(
            id: "t1", callId: call.id, tenantId: tenant.id, engine: "pocketsphinx", path: "t.cvr", createdAt: now,
            expiresAt: now.addingTimeInterval(86_400))
        try catalog.insertTranscript(transcript, actor: "test")
        #expect(try catalog.transcript(id: "t1") == transcript)
        #expect(try catalog.transcripts(tenantID: tenant.id) == [transcript])

        let entries = try catalog.auditLog.entries(tenantID: tenant.id)
        #expect(entries.map(\.action).contains(.transcriptCreated))
        #expect(try catalog.auditLog.entries(tenantID: tenant.id, afterSeq: entries[0].seq, limit: 1) == [entries[1]])
    }
}
