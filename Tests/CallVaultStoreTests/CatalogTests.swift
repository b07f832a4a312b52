import CallVaultModel
import CallVaultTestSupport
import Foundation
import GRDB
import Testing

@testable import CallVaultStore

@Suite struct CatalogTests {
    @Test func migrationsApplyToAFreshDatabase() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        #expect(FileManager.default.fileExists(atPath: directory.catalogPath))
        #expect(try catalog.appliedMigrations() == Catalog.knownMigrations)
        #expect(Catalog.knownMigrations.first == "v1")
        let (tables, journalMode, foreignKeys) = try catalog.pool.read { db in
            (
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
                try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                try Int.fetchOne(db, sql: "PRAGMA foreign_keys")
            )
        }
        for table in [
            "tenants", "calls", "consent_events", "recordings", "paused_spans", "jobs", "transcripts", "audit_log",
        ] {
            #expect(tables.contains(table), "missing table \(table)")
        }
        #expect(journalMode == "wal")
        #expect(foreignKeys == 1)
    }

    @Test func reopeningAppliesNothingTwiceAndKeepsData() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let tenantID: String
        do {
            let catalog = try Catalog(directory: directory.path)
            tenantID = try catalog.addTenant(name: "acme").tenant.id
        }
        let reopened = try Catalog(directory: directory.path)
        #expect(try reopened.appliedMigrations() == Catalog.knownMigrations)
        #expect(try reopened.tenant(id: tenantID).name == "acme")
        let migrationRows = try reopened.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations")
        }
        #expect(migrationRows == Catalog.knownMigrations.count)
    }

    @Test func openingCreatesAMissingDataDirectory() throws {
        let parent = try CatalogTestDirectory()
        defer { parent.remove() }
        let nested = parent.path + "/a/b/data"
        _ = try Catalog(directory: nested)
        #expect(FileManager.default.fileExists(atPath: nested + "/" + Catalog.fileName))
        let mode = try FileManager.default.attributesOfItem(atPath: nested)[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    @Test func theCatalogFilesArePrivateToTheServiceUser() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        _ = try catalog.addTenant(name: "acme")
        for suffix in ["", "-wal", "-shm"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: directory.catalogPath + suffix)
            #expect(attributes[.posixPermissions] as? Int == 0o600, "catalog.sqlite\(suffix)")
        }
    }

    @Test func aFileWhereTheDirectoryShouldBeIsAClearError() throws {
        let parent = try CatalogTestDirectory()
        defer { parent.remove() }
        let file = parent.path + "/not-a-directory"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        let error = #expect(throws: CatalogError.self) { try Catalog(directory: file) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("not a directory") == true)
    }

    @Test func schemaRefusesVoiceRetentionOver90DaysEvenFromRawSQL() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let tenant = try catalog.addTenant(name: "acme").tenant
        #expect(throws: DatabaseError.self) {
            try catalog.pool.write { db in
                try db.execute(sql: "UPDATE tenants SET voice_days = 91 WHERE id = ?", arguments: [tenant.id])
            }
        }
        #expect(try catalog.tenant(id: tenant.id).policy.voiceDays == 90)
    }

    @Test func aRecordingCannotPointAtAnotherTenantsCall() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let a = try catalog.addTenant(name: "a").tenant
        let b = try catalog.addTenant(name: "b").tenant
        let callOfA = try catalog.registerCall(tenantID: a.id, externalID: "CA1")
        let forged = RecordingRecord(
            id: "forged",
            callId: callOfA.id,
            tenantId: b.id,
            track: .caller,
            codec: .g711u,
            sampleRate: 8000,
            createdAt: Date(),
            expiresAt: Date(),
            path: "x.cvr"
        )
        #expect(throws: DatabaseError.self) {
            try catalog.pool.write { db in try RecordingRow(forged).insert(db) }
        }
    }

    @Test func recordingExpiryFollowsTheTenantsVoiceDays() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let tenant = try catalog.addTenant(name: "short", policy: TenantPolicy(voiceDays: 7)).tenant
        let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA1")
        let created = Date(timeIntervalSince1970: 1_800_000_000)
        let recording = try catalog.createRecording(
            callID: call.id,
            track: .caller,
            codec: .g711u,
            sampleRate: 8000,
            path: "r.cvr",
            createdAt: created
        )
        #expect(recording.expiresAt == created.addingTimeInterval(7 * 86_400))
        #expect(recording.tenantId == tenant.id)
        // What an insert returns is what a fetch returns (dates at the catalog's precision).
        #expect(try catalog.recording(id: recording.id) == recording)
        #expect(try catalog.call(id: call.id) == call)
        #expect(throws: CatalogError.self) {
            try catalog.createRecording(callID: call.id, track: .bot, codec: .native, sampleRate: 8000, path: "b.cvr")
        }
        try catalog.updateRecordingProgress(id: recording.id, durationMs: 1000, bytes: 8100)
        try catalog.finishRecording(id: recording.id, state: .complete, durationMs: 2000, bytes: 16_200)
        let stored = try catalog.recording(id: recording.id)
        #expect(stored.state == .complete)
        #expect(stored.durationMs == 2000)
        #expect(stored.bytes == 16_200)
        #expect(throws: CatalogError.self) {
            try catalog.finishRecording(id: recording.id, state: .interrupted, durationMs: 0, bytes: 0)
        }
    }

    @Test func progressOfManyRecordingsGoesInOneCallAndSkipsFinishedOnes() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let tenant = try catalog.addTenant(name: "t").tenant
        let open = try (0..<3).map { index in
            let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA\(index)")
            return try catalog.createRecording(
                callID: call.id, track: .caller, codec: .g711u, sampleRate: 8000, path: "r\(index).cvr")
        }
        try catalog.finishRecording(id: open[1].id, state: .complete, durationMs: 5000, bytes: 40_000)
        let finished = try catalog.updateRecordingProgress(
            open.enumerated().map { index, recording in
                RecordingProgress(recordingID: recording.id, durationMs: Int64(1000 * (index + 1)), bytes: Int64(8000 * (index + 1)))
            })
        #expect(finished == [open[1].id])
        #expect(try catalog.recording(id: open[0].id).durationMs == 1000)
        #expect(try catalog.recording(id: open[2].id).bytes == 24_000)
        // A finished recording keeps its final figures.
        #expect(try catalog.recording(id: open[1].id).durationMs == 5000)
        #expect(try catalog.updateRecordingProgress([]).isEmpty)
    }

    @Test func callerNumbersAreStoredOnlyAsAKeyedHashAndAnEncryptedCopyUnderKeysFromTheKeyStore() throws {
        let temporary = try TemporaryDirectory()
        let (data, store) = try temporary.makeStore()
        let catalog = try Catalog(path: data.catalogPath)
        let a = try catalog.addTenant(name: "a").tenant
        let b = try catalog.addTenant(name: "b").tenant
        try store.createTenant(a.id)
        try store.createTenant(b.id)
        let keysA = try store.callerKeys(tenantID: a.id)
        let keysB = try store.callerKeys(tenantID: b.id)
        let number = "+49 30 90182736"
        let callA = try catalog.registerCall(tenantID: a.id, externalID: "CA1", callerNumber: number, callerKeys: keysA)
        let callB = try catalog.registerCall(
            tenantID: b.id, externalID: "CB1", callerNumber: "+4930-90182736", callerKeys: keysB)
        let hashA = try #require(callA.callerHash)
        let hashB = try #require(callB.callerHash)
        #expect(hashA.count == 32)
        #expect(hashA != hashB)
        // An encrypted copy, for a data subject's export: nonce, the 13-byte normalized number, tag.
        #expect(callA.callerEncrypted?.count == 12 + 13 + 16)
        // The same caller is found again through the tenant's own key, formatting aside.
        #expect(try catalog.calls(tenantID: a.id, callerNumber: "+493090182736", callerKeys: keysA).map(\.id) == [callA.id])
        #expect(try catalog.calls(tenantID: b.id, callerNumber: number, callerKeys: keysB).map(\.id) == [callB.id])
        #expect(try catalog.calls(tenantID: a.id, callerNumber: "+493090182737", callerKeys: keysA).isEmpty)
        // Another tenant's keys find nothing: the hash is keyed per tenant.
        #expect(try catalog.calls(tenantID: a.id, callerNumber: number, callerKeys: keysB).isEmpty)
        // Without the keys, a number is refused rather than stored weakly.
        #expect(throws: CatalogError.self) { try catalog.registerCall(tenantID: a.id, externalID: "CA2", callerNumber: number) }

        let bytes = [UInt8](try #require(FileManager.default.contents(atPath: data.catalogPath)))
        for form in ["+493090182736", "493090182736", "90182736", "+49 30 90182736", "+4930-90182736"] {
            #expect(!contains(bytes, Array(form.utf8)), "the number appears in the catalog as \(form)")
        }
        // No key that could test numbers lives in the catalog.
        let stored = try catalog.pool.read { db in try Data.fetchAll(db, sql: "SELECT phone_hash_key FROM tenants") }
        #expect(stored.allSatisfy { $0 == Data(count: 32) })
    }

    @Test func aMalformedPhoneNumberIsRefusedWithoutEchoingIt() throws {
        let temporary = try TemporaryDirectory()
        let (data, store) = try temporary.makeStore()
        let catalog = try Catalog(path: data.catalogPath)
        let tenant = try catalog.addTenant(name: "a").tenant
        try store.createTenant(tenant.id)
        let keys = try store.callerKeys(tenantID: tenant.id)
        let error = #expect(throws: CatalogError.self) {
            try catalog.registerCall(tenantID: tenant.id, externalID: "CA1", callerNumber: "+49 30 x123", callerKeys: keys)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("x123") == false)
    }

    @Test func consentEventsAreKeptAndSummarized() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let tenant = try catalog.addTenant(name: "a").tenant
        let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA1")
        try catalog.recordConsentEvent(
            callID: call.id,
            kind: .disclosure,
            method: .api,
            frameIndex: 10,
            timelineMs: 200
        )
        try catalog.recordConsentEvent(
            callID: call.id,
            kind: .consent,
            method: .dtmf,
            frameIndex: 150,
            timelineMs: 3000
        )
        try catalog.recordConsentEvent(callID: call.id, kind: .pause, method: .api, timelineMs: 5000)
        let events = try catalog.consentEvents(callID: call.id)
        #expect(events.map(\.kind) == [.disclosure, .consent, .pause])
        #expect(events[1].method == .dtmf)
        #expect(events[1].frameIndex == 150)
        #expect(try catalog.callSummaries(tenantID: tenant.id).first?.consentState == .paused)
        try catalog.recordConsentEvent(callID: call.id, kind: .resume, method: .api, timelineMs: 9000)
        #expect(try catalog.callSummaries(tenantID: tenant.id).first?.consentState == .granted)
        try catalog.addPausedSpan(callID: call.id, startMs: 5000, endMs: 9000)
        #expect(try catalog.pausedSpans(callID: call.id).map(\.endMs) == [9000])

        let consentAudits = try catalog.auditLog.entries(tenantID: tenant.id).filter { $0.action == .consentEvent }
        #expect(consentAudits.count == 4)
        #expect(consentAudits[1].detailValues["method"] == "dtmf")
        #expect(consentAudits[1].subjectId == call.id)
    }

    @Test func aCallEndedByALimitIsAuditedUnderItsTenantAndTheChainVerifies() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let tenant = try catalog.addTenant(name: "a").tenant
        let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA1")
        let entry = try catalog.recordCallEndedByLimit(
            callID: call.id, limit: "idleTimeout", details: ["limitMs": "30000"])
        #expect(entry.action == .callEndedByLimit && entry.action.rawValue == "call.ended_by_limit")
        #expect(entry.actor == "ingest" && entry.tenantId == tenant.id && entry.subjectId == call.id)
        #expect(entry.detailValues == ["limit": "idleTimeout", "limitMs": "30000"])
        #expect(entry.details == #"{"limit":"idleTimeout","limitMs":"30000"}"#, "canonical: sorted keys, no spaces")
        #expect(try catalog.auditLog.verify().isIntact)
        #expect(throws: CatalogError.self) { try catalog.recordCallEndedByLimit(callID: "nope", limit: "idleTimeout") }
    }

    @Test func consentStateFollowsTheTenantsMode() {
        #expect(CallConsentState.summarize(mode: .optIn, kinds: []) == .pending)
        #expect(CallConsentState.summarize(mode: .optIn, kinds: [.disclosure]) == .disclosed)
        #expect(CallConsentState.summarize(mode: .optOut, kinds: [.disclosure]) == .granted)
        #expect(CallConsentState.summarize(mode: .optOut, kinds: [.disclosure, .deny]) == .denied)
        #expect(CallConsentState.summarize(mode: .optIn, kinds: [.consent, .revoke]) == .revoked)
        #expect(CallConsentState.summarize(mode: .notRequired, kinds: []) == .notRequired)
        #expect(CallConsentState.summarize(mode: .optIn, kinds: [.pause, .consent, .resume]) == .granted)
    }

    @Test func aJobIsQueuedOncePerCallAndEngine() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let tenant = try catalog.addTenant(name: "a").tenant
        let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA1")
        let recording = try catalog.createRecording(
            callID: call.id,
            track: .caller,
            codec: .g711u,
            sampleRate: 8000,
            path: "r.cvr"
        )
        #expect(try catalog.recordingsLeftOpen().map(\.id) == [recording.id])
        let first = try catalog.enqueueJob(callID: call.id, recordingID: recording.id, engine: "pocketsphinx")
        let again = try catalog.enqueueJob(callID: call.id, recordingID: recording.id, engine: "pocketsphinx")
        #expect(first == again)
        #expect(first.state == .queued)
        #expect(first.tenantId == tenant.id)
        try catalog.enqueueJob(callID: call.id, engine: "http")
        #expect(try catalog.jobs(state: .queued).count == 2)
        #expect(throws: DatabaseError.self) {
            try catalog.pool.write { db in
                try db.execute(sql: "UPDATE jobs SET state = 'lost' WHERE id = ?", arguments: [first.id])
            }
        }
        try catalog.finishRecording(id: recording.id, state: .interrupted, durationMs: 500, bytes: 4000)
        #expect(try catalog.recordingsLeftOpen().isEmpty)
    }
}
