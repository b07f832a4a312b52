import CallVaultCrypto
import CallVaultModel
import Foundation
import GRDB
import Testing

@testable import CallVaultStore

@Suite struct TenantTests {
    @Test func defaultsFollowTheCLIContract() {
        let policy = TenantPolicy()
        #expect(policy.voiceDays == 90)
        #expect(policy.transcriptDays == 365)
        #expect(policy.consentMode == .optIn)
        #expect(policy.codec == .native)
        #expect(policy.requireDisclosure == false)
        #expect(policy.consentDigit == nil)
    }

    @Test func theTokenIsReturnedOnceAndOnlyItsHashIsStored() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let (tenant, token) = try catalog.addTenant(name: "acme")
        #expect(token.hasPrefix("cvt_"))
        #expect(token.count == 4 + 43)  // 32 bytes in unpadded base64url
        let storedHash = try catalog.pool.read { db in
            try Data.fetchOne(db, sql: "SELECT token_hash FROM tenants WHERE id = ?", arguments: [tenant.id])
        }
        #expect(storedHash.map(Array.init) == Digest.sha256(Array(token.utf8)))
        let bytes = try directory.catalogBytes()
        #expect(!bytes.contains(bytes: Array(token.utf8)))
        #expect(!bytes.contains(bytes: Array(token.dropFirst(4).utf8)))
        // Nothing the catalog returns later carries the token.
        let listed = try JSONEncoder().encode(try catalog.tenants())
        #expect(!Array(listed).contains(bytes: Array(token.utf8)))
    }

    @Test func aTokenAuthenticatesItsOwnTenantOnly() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let (a, tokenA) = try catalog.addTenant(name: "a")
        let (b, tokenB) = try catalog.addTenant(name: "b")
        #expect(tokenA != tokenB)
        #expect(try catalog.tenant(authenticatedBy: tokenA)?.id == a.id)
        #expect(try catalog.tenant(authenticatedBy: tokenB)?.id == b.id)
        var flipped = Array(tokenA.utf8)
        flipped[10] = flipped[10] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(try catalog.tenant(authenticatedBy: String(decoding: flipped, as: UTF8.self)) == nil)
        #expect(try catalog.tenant(authenticatedBy: "") == nil)
        #expect(try catalog.tenant(authenticatedBy: String(tokenA.dropFirst(4))) == nil)
    }

    @Test func voiceRetentionOver90DaysIsRefusedNamingTheLimit() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let error = #expect(throws: CatalogError.self) {
            try catalog.addTenant(name: "greedy", policy: TenantPolicy(voiceDays: 91))
        }
        #expect(error?.code == .invalidPolicy)
        #expect(error?.message.contains("90") == true)
        #expect(try catalog.tenants().isEmpty)

        let tenant = try catalog.addTenant(name: "ok", policy: TenantPolicy(voiceDays: 90)).tenant
        let updateError = #expect(throws: CatalogError.self) {
            try catalog.updatePolicy(ofTenant: tenant.id, to: TenantPolicy(voiceDays: 91))
        }
        #expect(updateError?.message.contains("90") == true)
        #expect(try catalog.tenant(id: tenant.id).policy.voiceDays == 90)
    }

    @Test func otherInvalidPoliciesAreRefused() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        for policy in [
            TenantPolicy(voiceDays: 0), TenantPolicy(transcriptDays: 0), TenantPolicy(consentDigit: "x"),
            TenantPolicy(consentDigit: "1", optOutDigit: "1"),
        ] {
            #expect(throws: CatalogError.self) { try catalog.addTenant(name: "bad", policy: policy) }
        }
        #expect(throws: CatalogError.self) { try catalog.addTenant(name: "  ") }
        _ = try catalog.addTenant(name: "dup")
        let duplicate = #expect(throws: CatalogError.self) { try catalog.addTenant(name: "dup") }
        #expect(duplicate?.code == .duplicate)
    }

    @Test func listShowAndUpdatePolicy() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let policy = TenantPolicy(
            consentMode: .optOut,
            requireDisclosure: true,
            consentDigit: "1",
            optOutDigit: "9",
            voiceDays: 30,
            transcriptDays: 180,
            codec: .opus
        )
        let created = try catalog.addTenant(name: "beta", policy: policy).tenant
        _ = try catalog.addTenant(name: "alpha")
        #expect(try catalog.tenants().map(\.name) == ["alpha", "beta"])
        #expect(try catalog.tenant(id: created.id).policy == policy)

        var changed = policy
        changed.voiceDays = 14
        changed.consentMode = .optIn
        let updated = try catalog.updatePolicy(ofTenant: created.id, to: changed)
        #expect(updated.policy == changed)
        #expect(try catalog.tenant(id: created.id).policy == changed)
        let audit = try catalog.auditLog.entries(tenantID: created.id)
        #expect(audit.map(\.action) == [.tenantCreated, .tenantPolicyChanged])
        #expect(audit.last?.detailValues["changed"] == "consentMode,voiceDays")

        let missing = #expect(throws: CatalogError.self) { try catalog.tenant(id: "nope") }
        #expect(missing?.code == .notFound)
    }

    @Test func twoTenantsNeverSeeEachOthersCallsOrRecordings() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let a = try catalog.addTenant(name: "a").tenant
        let b = try catalog.addTenant(name: "b").tenant
        var callsOf: [String: [String]] = [:]
        var recordingsOf: [String: Set<String>] = [:]
        for (tenant, count) in [(a, 3), (b, 2)] {
            for index in 0..<count {
                // The same provider call id for both tenants must not collide or leak.
                let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA\(index)")
                callsOf[tenant.id, default: []].append(call.id)
                for track in RecordingTrack.allCases {
                    let recording = try catalog.createRecording(
                        callID: call.id,
                        track: track,
                        codec: .g711u,
                        sampleRate: 8000,
                        path: "\(call.id)-\(track).cvr"
                    )
                    recordingsOf[tenant.id, default: []].insert(recording.id)
                }
            }
        }
        for tenant in [a, b] {
            let calls = try catalog.callSummaries(tenantID: tenant.id)
            #expect(Set(calls.map(\.id)) == Set(callsOf[tenant.id] ?? []))
            #expect(calls.allSatisfy { $0.tenantId == tenant.id })
            let nested = calls.flatMap(\.recordings)
            #expect(Set(nested.map(\.id)) == recordingsOf[tenant.id])
            #expect(nested.allSatisfy { $0.tenantId == tenant.id })
            let recordings = try catalog.recordingSummaries(tenantID: tenant.id)
            #expect(Set(recordings.map(\.id)) == recordingsOf[tenant.id])
        }
        // Asking for b's call under a's id yields nothing, not b's data.
        let callOfB = try #require(callsOf[b.id]?.first)
        #expect(try catalog.recordingSummaries(callID: callOfB, tenantID: a.id).isEmpty)
        #expect(try catalog.recordingSummaries(callID: callOfB, tenantID: b.id).count == 2)
        #expect(throws: CatalogError.self) { try catalog.call(id: callOfB, tenantID: a.id) }
        #expect(try catalog.call(tenantID: a.id, externalID: "CA2") != nil)
        #expect(try catalog.call(tenantID: b.id, externalID: "CA2") == nil)
        #expect(try catalog.callSummaries().count == 5)
    }
}

extension TenantTests {
    @Test func aTenantsWhisperModelRoundTripsIsAuditedAndCanBeCleared() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        #expect(TenantPolicy().transcriptModel == nil, "nil: the run's model")
        let created = try catalog.addTenant(name: "acme", policy: TenantPolicy(transcriptModel: "/srv/models/small")).tenant
        #expect(try catalog.tenant(id: created.id).policy.transcriptModel == "/srv/models/small")

        var policy = created.policy
        policy.transcriptModel = nil
        #expect(try catalog.updatePolicy(ofTenant: created.id, to: policy).policy.transcriptModel == nil)
        let audit = try catalog.auditLog.entries(tenantID: created.id)
        #expect(audit.first?.detailValues["transcriptModel"] == "/srv/models/small")
        #expect(audit.last?.detailValues["changed"] == "transcriptModel")
        #expect(audit.last?.detailValues["transcriptModel"] == "")

        // The policy travels as JSON (CLI output): the field is there, null when unset, and older
        // documents without it decode to nil.
        let json = try JSONEncoder().encode(TenantPolicy(transcriptModel: "/m"))
        #expect(try JSONDecoder().decode(TenantPolicy.self, from: json).transcriptModel == "/m")
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(TenantPolicy())) as? [String: Any])
        #expect(object.keys.contains("transcriptModel"))
        object["transcriptModel"] = nil
        let old = try JSONSerialization.data(withJSONObject: object)
        #expect(try JSONDecoder().decode(TenantPolicy.self, from: old).transcriptModel == nil)
    }

    @Test func aModelPathThatIsNotAnAbsoluteCleanPathIsRefused() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let long = "/" + String(repeating: "m", count: TenantPolicy.maximumModelPathLength)
        for (path, reason) in [
            ("models/small", "absolute"), ("/", "absolute"), ("", "absolute"), ("/models/small\n", "control"),
            ("/models/\u{1B}[31m", "control"), (long, "limit is 1024"),
        ] {
            let error = #expect(throws: CatalogError.self) {
                try catalog.addTenant(name: "bad", policy: TenantPolicy(transcriptModel: path))
            }
            #expect(error?.code == .invalidPolicy && error?.message.contains(reason) == true, "\(error?.message ?? "")")
        }
        // The CHECK constraint holds even against a hand-written statement.
        let id = try catalog.addTenant(name: "good").tenant.id
        #expect(throws: (any Error).self) {
            try catalog.pool.write { db in
                try db.execute(sql: "UPDATE tenants SET transcript_model = 'relative/dir' WHERE id = ?", arguments: [id])
            }
        }
    }

    @Test func aV4CatalogMigratesWithItsTenantsOnTheRunsModel() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        do {
            let queue = try DatabaseQueue(path: directory.catalogPath)
            try Catalog.migrator.migrate(queue, upTo: "v4")
            try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO tenants (id, name, token_hash, phone_hash_key, transcript_language, created_at, updated_at)
                        VALUES ('t-old', 'old', zeroblob(32), zeroblob(32), 'de', '2026-01-01 00:00:00.000',
                            '2026-01-01 00:00:00.000')
                        """)
            }
        }
        let catalog = try Catalog(directory: directory.path)
        #expect(try catalog.appliedMigrations() == Catalog.knownMigrations)
        #expect(Catalog.knownMigrations.contains("v5"))
        let old = try catalog.tenant(id: "t-old")
        #expect(old.policy.transcriptModel == nil && old.policy.transcriptLanguage == "de")
        var policy = old.policy
        policy.transcriptModel = "/srv/models/de"
        #expect(try catalog.updatePolicy(ofTenant: "t-old", to: policy).policy.transcriptModel == "/srv/models/de")
    }
}
