import CallVaultModel
import Foundation
import GRDB
import Testing

@testable import CallVaultStore

/// The tenant policy's transcription settings (`--bot-transcript`, `--vocabulary`): the vocabulary file's
/// rules, the column (SQLite v16, PostgreSQL 17), the audit entry.
@Suite struct TenantTranscriptionPolicyTests {
    @Test func aVocabularyFileIsOnePhrasePerLineWithCommentsBlanksAndRepeatsLeftOut() throws {
        let text = "# our products\nZorvex Pro\n\n  Kerkhoven  \r\nzorvex pro\n#Nexaro\nHalvorsen Street\n"
        #expect(try TenantTranscription.vocabulary(fileText: text) == ["Zorvex Pro", "Kerkhoven", "Halvorsen Street"])
        #expect(try TenantTranscription.vocabulary(fileText: "") == [])
    }

    @Test(arguments: [
        ("ok\n" + String(repeating: "x", count: 101) + "\n", "line 2 is 101 bytes"),
        ("ok\nbad\u{7}bell\n", "line 2 holds a control character"),
        ((0..<101).map { "word\($0)" }.joined(separator: "\n"), "101 phrases: the limit is 100"),
        ((0..<30).map { "phrase \($0) " + String(repeating: "x", count: 80) }.joined(separator: "\n"), "bytes long: the limit is 2000"),
    ])
    func aVocabularyOverALimitIsRefusedNamingTheLineOrTheLimit(_ text: String, _ named: String) {
        #expect {
            try TenantTranscription.vocabulary(fileText: text)
        } throws: { error in
            let error = error as? CatalogError
            return error?.code == .invalidPolicy && error?.message.contains(named) == true
        }
    }

    @Test func theColumnIsNullForTheDefaultsAndReadLeniently() throws {
        #expect(TenantTranscription().columnText == nil && TenantPolicy().transcription.isDefault)
        let settings = TenantTranscription(botTranscript: .both, vocabulary: ["Zorvex", "Kerkhoven"])
        let column = try #require(settings.columnText)
        #expect(column == #"{"botTranscript":"both","vocabulary":["Zorvex","Kerkhoven"]}"#)
        #expect(TenantTranscription(columnText: column) == settings)
        // A newer binary's value this one does not know reads as the default, not as an error.
        #expect(TenantTranscription(columnText: #"{"botTranscript":"llm","vocabulary":["a"]}"#).botTranscript == .text)
        #expect(TenantTranscription(columnText: "not json") == TenantTranscription())
        // A policy written before the field existed reads as the defaults.
        var object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(TenantPolicy())) as? [String: Any])
        #expect(object["transcription"] != nil, "tenant show --json always shows it")
        object["transcription"] = nil
        let old = try JSONSerialization.data(withJSONObject: object)
        #expect(try JSONDecoder().decode(TenantPolicy.self, from: old).transcription == TenantTranscription())
    }

    @Test func aPolicyWithATooLongVocabularyIsRefusedBeforeTheCatalog() {
        let policy = TenantPolicy(transcription: TenantTranscription(vocabulary: (0..<101).map { "w\($0)" }))
        #expect(throws: CatalogError.self) { try policy.validate() }
    }

    @Test func aCatalogFileKeepsTheSettingsInOneColumn() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        #expect(try catalog.appliedMigrations().contains("v16"))
        let plain = try catalog.addTenant(name: "plain").tenant
        let settings = TenantTranscription(botTranscript: .asr, vocabulary: ["Zorvex"])
        let tuned = try catalog.addTenant(name: "tuned", policy: TenantPolicy(transcription: settings)).tenant
        let stored = try catalog.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, transcription FROM tenants ORDER BY name").map {
                [$0["name"] as String, $0["transcription"] as String? ?? "NULL"]
            }
        }
        #expect(stored == [["plain", "NULL"], ["tuned", #"{"botTranscript":"asr","vocabulary":["Zorvex"]}"#]])
        let reopened = try Catalog(directory: directory.path)
        #expect(try reopened.tenant(id: plain.id).policy.transcription == TenantTranscription())
        #expect(try reopened.tenant(id: tuned.id).policy.transcription == settings)
    }
}

extension CatalogConformance {
    @Suite("Catalog conformance: a tenant's transcription settings (SQLite and PostgreSQL)")
    struct TenantTranscriptionConformanceTests {
        @Test(arguments: Backend.all)
        func theSettingsRoundTripAndAChangeIsAuditedWithoutThePhrases(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let policy = TenantPolicy(
                    transcription: TenantTranscription(botTranscript: .both, vocabulary: ["Zorvex", "Kerkhoven"]))
                let (tenant, token) = try await catalog.addTenant(name: "acme", policy: policy, actor: "test", at: Date())
                #expect(try await catalog.tenant(id: tenant.id).policy == policy)
                #expect(try await catalog.tenant(authenticatedBy: token)?.policy.transcription == policy.transcription)
                let created = try #require(try await catalog.audit.entries().last)
                #expect(created.details.contains("\"botTranscript\":\"both\""), "\(created.details)")
                #expect(created.details.contains("\"vocabulary\":\"2\""), "\(created.details)")
                #expect(!created.details.contains("Zorvex"), "the phrases are counted, not copied into the audit log")

                // Same count, other words: still a change the audit log names.
                var changed = policy
                changed.transcription.vocabulary = ["Nexaro", "Vantrix"]
                _ = try await catalog.updatePolicy(ofTenant: tenant.id, to: changed, actor: "test", at: Date())
                #expect(try await catalog.tenant(id: tenant.id).policy.transcription.vocabulary == ["Nexaro", "Vantrix"])
                let entry = try #require(try await catalog.audit.entries().last)
                #expect(entry.details.contains("\"changed\":\"vocabularyDigest\""), "\(entry.details)")

                changed.transcription = TenantTranscription()
                _ = try await catalog.updatePolicy(ofTenant: tenant.id, to: changed, actor: "test", at: Date())
                #expect(try await catalog.tenants().map(\.policy.transcription) == [TenantTranscription()])
            }
        }
    }
}
