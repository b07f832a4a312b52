import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// Transcripts and the audits of decryptions through ``CatalogStore``, the same on SQLite and
/// PostgreSQL. Recordings are made as rows (``CatalogFixture/insertRecordingRow(id:call:track:state:restricted:createdAt:)``),
/// so these tests do not depend on the catalog's recording methods.
extension CatalogConformance {
    @Suite("Catalog conformance: transcripts and decryption audits (SQLite and PostgreSQL)")
    struct CatalogTranscriptsConformanceTests {
        @Test(arguments: Backend.all)
        func aTranscriptExpiresAfterItsTenantsTranscriptRetentionAsItIsNow(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant(policy: TenantPolicy(transcriptDays: 30))
                let made = Date()
                let expiry = try await catalog.transcriptExpiry(tenantID: tenant.id, createdAt: made)
                #expect(abs(expiry.timeIntervalSince(made) - 30 * 86_400) < 0.001, "\(expiry)")
                var policy = tenant.policy
                policy.transcriptDays = 10
                _ = try await catalog.updatePolicy(ofTenant: tenant.id, to: policy, actor: "test", at: Date())
                let shorter = try await catalog.transcriptExpiry(tenantID: tenant.id, createdAt: made)
                #expect(abs(shorter.timeIntervalSince(made) - 10 * 86_400) < 0.001, "\(shorter)")
                let unknown = await catalogError { try await catalog.transcriptExpiry(tenantID: "no-such", createdAt: made) }
                #expect(unknown?.code == .notFound, "\(String(describing: unknown))")
            }
        }

        @Test(arguments: Backend.all)
        func aTranscriptIsStoredAuditedAndReadBackEqual(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                let other = try await fixture.tenant("other")
                let call = try await fixture.call(of: acme)
                let theirCall = try await fixture.call(of: other)
                let now = Date()
                let older = try await fixture.storedTranscript("t1", of: call, engine: "whisper", at: now)
                let newer = try await fixture.storedTranscript("t2", of: call, engine: "pocketsphinx", at: now.addingTimeInterval(5))
                let theirs = try await fixture.storedTranscript("t3", of: theirCall, engine: "whisper", at: now.addingTimeInterval(2))
                #expect(try await catalog.transcript(id: "t1", tenantID: nil) == older)
                #expect(try await catalog.transcript(id: "t1", tenantID: acme.id) == older)
                #expect(older.state == .complete && older.shreddedAt == nil)
                // A call's, oldest first; listings newest first, one tenant's or all, at most `limit`.
                #expect(try await catalog.transcripts(callID: call.id) == [older, newer])
                #expect(try await catalog.transcripts(callID: "no-such").isEmpty)
                #expect(try await catalog.transcripts(tenantID: acme.id, limit: 1000) == [newer, older])
                #expect(try await catalog.transcripts(tenantID: other.id, limit: 1000) == [theirs])
                #expect(try await catalog.transcripts(tenantID: nil, limit: 1000) == [newer, theirs, older])
                #expect(try await catalog.transcripts(tenantID: nil, limit: 2) == [newer, theirs])
                #expect(try await catalog.transcripts(tenantID: acme.id, limit: 0).isEmpty)
                #expect(try await catalog.transcripts(tenantID: "no-such", limit: 10).isEmpty)

                let created = try await catalog.audit.entries().filter { $0.action == .transcriptCreated }
                #expect(created.map(\.subjectId) == ["t1", "t2", "t3"])
                #expect(created.map(\.tenantId) == [acme.id, acme.id, other.id])
                #expect(created.map(\.actor) == ["worker", "worker", "worker"])
                #expect(created[0].detailValues == ["call": call.id, "engine": "whisper"])
                #expect(created[1].detailValues == ["call": call.id, "engine": "pocketsphinx"])
                #expect(abs(created[1].at.timeIntervalSince(newer.createdAt)) < 0.001)
                #expect(try await catalog.audit.verify().isIntact)

                // Read back exactly as given (whole seconds survive either backend's millisecond precision); made
                // in 2023, so the oldest of the call's.
                let exact = TranscriptRecord(
                    id: "t0", callId: call.id, tenantId: acme.id, engine: "command", path: "transcripts/t0.cvt",
                    createdAt: Date(timeIntervalSince1970: 1_700_000_000), expiresAt: Date(timeIntervalSince1970: 1_800_000_000))
                try await catalog.insertTranscript(exact, actor: "worker")
                #expect(try await catalog.transcript(id: "t0", tenantID: nil) == exact)
                #expect(try await catalog.transcripts(callID: call.id) == [exact, older, newer])
            }
        }

        @Test(arguments: Backend.all)
        func aTranscriptIsHiddenFromAnotherTenantAndAnUnknownOneIsNotFound(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                let other = try await fixture.tenant("other")
                _ = try await fixture.storedTranscript("t1", of: try await fixture.call(of: acme), engine: "whisper", at: Date())
                for (id, tenantID) in [("t1", other.id), ("no-such", nil), ("no-such", acme.id)] {
                    let error = await catalogError { try await catalog.transcript(id: id, tenantID: tenantID) }
                    #expect(error?.code == .notFound, "\(id) for \(String(describing: tenantID)): \(String(describing: error))")
                }
            }
        }

        @Test(arguments: Backend.all)
        func aTranscriptOfAnUnknownOrAnotherTenantsCallOrWithATakenIdIsRefusedAndChangesNothing(_ backend: Backend)
            async throws
        {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                let other = try await fixture.tenant("other")
                let call = try await fixture.call(of: acme)
                let first = try await fixture.storedTranscript("t1", of: call, engine: "whisper", at: Date())
                let entries = try await catalog.audit.entries()
                let now = Date()
                func record(_ id: String, call callID: String, tenant tenantID: String) -> TranscriptRecord {
                    TranscriptRecord(
                        id: id, callId: callID, tenantId: tenantID, engine: "whisper", path: "\(id).cvt", createdAt: now,
                        expiresAt: now.addingTimeInterval(86_400))
                }
                let cases: [(TranscriptRecord, CatalogError.Code)] = [
                    (record("t2", call: "no-such", tenant: acme.id), .notFound),
                    (record("t2", call: call.id, tenant: other.id), .notFound),
                    (record("t2", call: call.id, tenant: "no-such"), .notFound),
                    (record("t1", call: call.id, tenant: acme.id), .duplicate),
                ]
                for (transcript, code) in cases {
                    let error = await catalogError { try await catalog.insertTranscript(transcript, actor: "worker") }
                    #expect(error?.code == code, "\(transcript.callId), \(transcript.tenantId): \(String(describing: error))")
                }
                #expect(try await catalog.transcripts(tenantID: nil, limit: 1000) == [first])
                #expect(try await catalog.audit.entries() == entries)
            }
        }

        // MARK: Decryption audits

        @Test(arguments: Backend.all)
        func aRecordingsDecryptionIsAuditedBeforeItHappens(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                try await fixture.insertRecordingRow(id: "rec-1", call: call, track: .caller)
                let audit = try await catalog.auditRecordingDecryption(
                    recordingID: "rec-1", tenantID: tenant.id, actor: "operator", purpose: "export",
                    details: ["export": "x1"], restrictionOverride: nil, at: Date())
                #expect(audit.restrictionOverrides.isEmpty)
                #expect(audit.decrypted.action == .recordingDecrypted && audit.decrypted.subjectId == "rec-1")
                #expect(audit.decrypted.tenantId == tenant.id && audit.decrypted.actor == "operator")
                #expect(audit.decrypted.detailValues == ["export": "x1", "purpose": "export"])
                // An override of a recording that is not restricted is not audited as one.
                let again = try await catalog.auditRecordingDecryption(
                    recordingID: "rec-1", tenantID: nil, actor: "operator", purpose: "transcription", details: [:],
                    restrictionOverride: RestrictionOverride(reason: "not needed"), at: Date())
                #expect(again.restrictionOverrides.isEmpty && again.decrypted.detailValues == ["purpose": "transcription"])
                #expect(try await catalog.audit.entries().suffix(2) == [audit.decrypted, again.decrypted])
                #expect(try await catalog.audit.verify().isIntact)
            }
        }

        @Test(arguments: Backend.all)
        func aRestrictedRecordingIsRefusedWithoutAnOverrideAndAnOverrideIsAuditedFirst(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                try await fixture.insertRecordingRow(id: "rec-1", call: call, track: .caller, restricted: true)
                let before = try await catalog.audit.entries()
                let refused = await catalogError {
                    try await catalog.auditRecordingDecryption(
                        recordingID: "rec-1", tenantID: nil, actor: "operator", purpose: "export", details: [:],
                        restrictionOverride: nil, at: Date())
                }
                #expect(refused?.code == .restricted, "\(String(describing: refused))")
                #expect(refused?.message == "recording rec-1 is restricted (GDPR Art. 18): kept, but not processed")
                #expect(try await catalog.audit.entries() == before, "a refused decryption left an audit entry")

                let audit = try await catalog.auditRecordingDecryption(
                    recordingID: "rec-1", tenantID: tenant.id, actor: "operator", purpose: "export", details: ["export": "x1"],
                    restrictionOverride: RestrictionOverride(reason: "court order 12"), at: Date())
                let overridden = try #require(audit.restrictionOverrides.first)
                #expect(audit.restrictionOverrides.count == 1)
                #expect(overridden.action == .restrictionOverridden && overridden.subjectId == "rec-1")
                #expect(overridden.tenantId == tenant.id && overridden.actor == "operator")
                #expect(overridden.detailValues == ["export": "x1", "purpose": "export", "reason": "court order 12"])
                #expect(audit.decrypted.action == .recordingDecrypted)
                #expect(audit.decrypted.detailValues == ["export": "x1", "purpose": "export"])
                let after = try await catalog.audit.entries()
                #expect(after == before + [overridden, audit.decrypted], "the override first, then the decryption")
                #expect(try await catalog.audit.verify().isIntact)
            }
        }

        @Test(arguments: Backend.all)
        func aDecryptionOfAnUnknownOrAnotherTenantsRecordingOrWithABadReasonIsRefusedAndNotAudited(_ backend: Backend)
            async throws
        {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant("acme")
                let other = try await fixture.tenant("other")
                let call = try await fixture.call(of: tenant)
                try await fixture.insertRecordingRow(id: "rec-1", call: call, track: .caller, restricted: true)
                let before = try await catalog.audit.entries()
                let cases: [(String, String?, RestrictionOverride?, CatalogError.Code)] = [
                    ("no-such", nil, nil, .notFound),
                    ("rec-1", other.id, RestrictionOverride(reason: "court order 12"), .notFound),
                    ("rec-1", nil, RestrictionOverride(reason: ""), .invalidArgument),
                    ("rec-1", nil, RestrictionOverride(reason: String(repeating: "x", count: 501)), .invalidArgument),
                ]
                for (id, tenantID, override, code) in cases {
                    let error = await catalogError {
                        try await catalog.auditRecordingDecryption(
                            recordingID: id, tenantID: tenantID, actor: "operator", purpose: "export", details: [:],
                            restrictionOverride: override, at: Date())
                    }
                    #expect(error?.code == code, "\(id), \(String(describing: tenantID)): \(String(describing: error))")
                }
                #expect(try await catalog.audit.entries() == before)
                // 500 bytes is still a reason.
                let audit = try await catalog.auditRecordingDecryption(
                    recordingID: "rec-1", tenantID: nil, actor: "operator", purpose: "export", details: [:],
                    restrictionOverride: RestrictionOverride(reason: String(repeating: "x", count: 500)), at: Date())
                #expect(audit.restrictionOverrides.count == 1)
            }
        }

        @Test(arguments: Backend.all)
        func aTranscriptsDecryptionIsAuditedAndRefusedWhileATrackOfItsCallIsRestricted(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant("acme")
                let other = try await fixture.tenant("other")
                let call = try await fixture.call(of: tenant)
                let free = try await fixture.call(of: tenant)
                try await fixture.insertRecordingRow(id: "rec-c", call: call, track: .caller, restricted: true)
                try await fixture.insertRecordingRow(id: "rec-a", call: call, track: .bot, restricted: true)
                // A shredded track holds nothing to protect any more, and an unrestricted one needs no override.
                try await fixture.insertRecordingRow(id: "rec-b", call: call, track: .caller, state: .shredded, restricted: true)
                try await fixture.insertRecordingRow(id: "rec-d", call: call, track: .bot)
                try await fixture.insertRecordingRow(id: "rec-e", call: free, track: .caller)
                let transcript = try await fixture.storedTranscript("t1", of: call, engine: "whisper", at: Date())
                let freeTranscript = try await fixture.storedTranscript("t2", of: free, engine: "whisper", at: Date())
                let before = try await catalog.audit.entries()

                let refused = await catalogError {
                    try await catalog.auditTranscriptDecryption(
                        transcriptID: "t1", tenantID: nil, actor: "operator", purpose: "show", details: [:],
                        restrictionOverride: nil, at: Date())
                }
                #expect(refused?.code == .restricted, "\(String(describing: refused))")
                #expect(
                    refused?.message
                        == "transcript t1 is made from recording rec-a, which is restricted (GDPR Art. 18): kept, but not processed")
                for (id, tenantID, override, code) in [
                    ("no-such", String?.none, RestrictionOverride?.none, CatalogError.Code.notFound),
                    ("t1", other.id, RestrictionOverride(reason: "court order 12"), .notFound),
                    ("t1", nil, RestrictionOverride(reason: ""), .invalidArgument),
                ] {
                    let error = await catalogError {
                        try await catalog.auditTranscriptDecryption(
                            transcriptID: id, tenantID: tenantID, actor: "operator", purpose: "show", details: [:],
                            restrictionOverride: override, at: Date())
                    }
                    #expect(error?.code == code, "\(id), \(String(describing: tenantID)): \(String(describing: error))")
                }
                #expect(try await catalog.audit.entries() == before, "a refused decryption left an audit entry")

                let audit = try await catalog.auditTranscriptDecryption(
                    transcriptID: transcript.id, tenantID: tenant.id, actor: "operator", purpose: "show",
                    details: ["export": "x1"], restrictionOverride: RestrictionOverride(reason: "court order 12"), at: Date())
                // One override per restricted, unshredded track, by recording id, then the decryption.
                #expect(audit.restrictionOverrides.map(\.subjectId) == ["rec-a", "rec-c"])
                #expect(audit.restrictionOverrides.allSatisfy { $0.action == .restrictionOverridden && $0.tenantId == tenant.id })
                #expect(
                    audit.restrictionOverrides.allSatisfy {
                        $0.detailValues == ["export": "x1", "purpose": "show", "reason": "court order 12", "transcript": "t1"]
                    })
                #expect(audit.decrypted.action == .transcriptDecrypted && audit.decrypted.subjectId == "t1")
                #expect(audit.decrypted.tenantId == tenant.id && audit.decrypted.actor == "operator")
                #expect(audit.decrypted.detailValues == ["export": "x1", "purpose": "show"])
                #expect(try await catalog.audit.entries() == before + audit.restrictionOverrides + [audit.decrypted])

                // A transcript of a call with no restricted track opens without an override.
                let plain = try await catalog.auditTranscriptDecryption(
                    transcriptID: freeTranscript.id, tenantID: nil, actor: "operator", purpose: "show", details: [:],
                    restrictionOverride: nil, at: Date())
                #expect(plain.restrictionOverrides.isEmpty && plain.decrypted.subjectId == "t2")
                #expect(try await catalog.audit.verify().isIntact)
            }
        }
    }
}

extension CatalogFixture {
    /// A transcript of `call` made at `at`, expiring after its tenant's transcript retention, stored
    /// through the catalog (audited, actor `worker`).
    func storedTranscript(_ id: String, of call: CallRecord, engine: String, at: Date) async throws -> TranscriptRecord {
        let expiresAt = try await catalog.transcriptExpiry(tenantID: call.tenantId, createdAt: at)
        let record = TranscriptRecord(
            id: id, callId: call.id, tenantId: call.tenantId, engine: engine, path: "transcripts/\(id).cvt",
            createdAt: at, expiresAt: expiresAt)
        try await catalog.insertTranscript(record, actor: "worker")
        return try await catalog.transcript(id: id, tenantID: call.tenantId)
    }
}
