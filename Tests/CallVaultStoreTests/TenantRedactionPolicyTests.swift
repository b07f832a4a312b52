import CallVaultModel
import CallVaultRedaction
import Foundation
import GRDB
import Testing

@testable import CallVaultStore

/// The tenant policy's `redact` categories: spelling, errors, the SQLite column (migration v10).
@Suite struct TenantRedactionPolicyTests {
    @Test func theCLISpellingReadsAndPrintsBack() throws {
        let all = try TenantRedaction(listText: "pci,bank,contact,ids")
        #expect(all.categories == Set(RedactionCategory.allCases))
        #expect(all.listText == "pci,bank,contact,ids")
        #expect(try TenantRedaction(listText: "contact, payment").categories == [.contact, .payment])
        #expect(try TenantRedaction(listText: "ids,pci").listText == "pci,ids", "fixed order")
        #expect(try TenantRedaction(listText: "none").isEmpty)
        #expect(TenantRedaction().listText == "none" && TenantPolicy().redact.isEmpty, "none by default")
    }

    @Test(arguments: [
        ("pci,cards", "\"cards\""), ("", "name categories"), ("pci,,bank", "name categories"),
        ("none,pci", "cannot be combined"),
    ])
    func aBadListIsRefusedNamingWhatWasWrong(_ text: String, _ named: String) {
        #expect {
            try TenantRedaction(listText: text)
        } throws: { error in
            let error = error as? CatalogError
            return error?.code == .invalidPolicy && error?.message.contains(named) == true
        }
    }

    @Test func theColumnIsReadLenientlyAndTheJSONIsAList() throws {
        #expect(TenantRedaction(columnText: nil).isEmpty)
        #expect(
            TenantRedaction(columnText: "pci,biometrics").categories == [.payment],
            "a newer binary's name is skipped"
        )
        #expect(TenantRedaction(categories: [.bank]).columnText == "bank" && TenantRedaction().columnText == nil)
        let json = try JSONEncoder().encode(TenantPolicy(redact: TenantRedaction(categories: [.payment, .contact])))
        #expect(String(decoding: json, as: UTF8.self).contains("\"redact\":[\"pci\",\"contact\"]"))
        #expect(try JSONDecoder().decode(TenantPolicy.self, from: json).redact.categories == [.payment, .contact])
        // A policy encoded before the field existed reads as no redaction.
        var object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        object["redact"] = nil
        let old = try JSONSerialization.data(withJSONObject: object)
        #expect(try JSONDecoder().decode(TenantPolicy.self, from: old).redact.isEmpty)
    }

    @Test func aCatalogFileKeepsThePolicyAndExistingTenantsKeepNone() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        #expect(try catalog.appliedMigrations().contains("v10"))
        let before = try catalog.addTenant(name: "existing").tenant
        let redacting = try catalog.addTenant(
            name: "payments",
            policy: TenantPolicy(redact: TenantRedaction(categories: [.payment, .contact]))
        ).tenant
        let stored = try catalog.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, redact FROM tenants ORDER BY name").map {
                [$0["name"] as String, $0["redact"] as String? ?? "NULL"]
            }
        }
        #expect(stored == [["existing", "NULL"], ["payments", "pci,contact"]])

        let reopened = try Catalog(directory: directory.path)
        #expect(try reopened.tenant(id: before.id).policy.redact.isEmpty)
        #expect(try reopened.tenant(id: redacting.id).policy.redact.categories == [.payment, .contact])
        // A row a newer binary wrote, with a category this one does not know: the known ones still apply.
        try reopened.pool.write { db in
            try db.execute(sql: "UPDATE tenants SET redact = 'bank,voiceprint' WHERE id = ?", arguments: [before.id])
        }
        #expect(try reopened.tenant(id: before.id).policy.redact.categories == [.bank])
    }
}

extension CatalogConformance {
    @Suite("Catalog conformance: a tenant's redaction policy (SQLite and PostgreSQL)")
    struct TenantRedactionConformanceTests {
        @Test(arguments: Backend.all)
        func theRedactionPolicyRoundTripsAndItsChangeIsAudited(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let policy = TenantPolicy(redact: TenantRedaction(categories: [.payment, .bank, .contact, .ids]))
                let (tenant, token) = try await catalog.addTenant(
                    name: "acme",
                    policy: policy,
                    actor: "test",
                    at: Date()
                )
                #expect(try await catalog.tenant(id: tenant.id).policy == policy)
                #expect(try await catalog.tenant(authenticatedBy: token)?.policy.redact == policy.redact)
                let created = try #require(try await catalog.audit.entries().last)
                #expect(created.details.contains("\"redact\":\"pci,bank,contact,ids\""), "\(created.details)")

                var changed = policy
                changed.redact = TenantRedaction(categories: [.contact])
                _ = try await catalog.updatePolicy(ofTenant: tenant.id, to: changed, actor: "test", at: Date())
                #expect(try await catalog.tenant(id: tenant.id).policy.redact.categories == [.contact])
                let entry = try #require(try await catalog.audit.entries().last)
                #expect(entry.details.contains("\"changed\":\"redact\""), "\(entry.details)")
                #expect(entry.details.contains("\"redact\":\"contact\""), "\(entry.details)")

                changed.redact = TenantRedaction()
                _ = try await catalog.updatePolicy(ofTenant: tenant.id, to: changed, actor: "test", at: Date())
                #expect(try await catalog.tenant(id: tenant.id).policy.redact.isEmpty)
                #expect(try await catalog.tenants().map(\.policy.redact) == [TenantRedaction()])
            }
        }

        @Test(arguments: Backend.all)
        func aRedactedTranscriptsCountsAreAuditedAndCannotOverrideItsCallOrEngine(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let call = try await fixture.call(of: try await fixture.tenant())
                let record = TranscriptRecord(
                    id: "t1",
                    callId: call.id,
                    tenantId: call.tenantId,
                    engine: "whisper",
                    path: "transcripts/t1.cvr",
                    createdAt: Date(timeIntervalSince1970: 1_700_000_000),
                    expiresAt: Date(timeIntervalSince1970: 1_800_000_000)
                )
                let details = [
                    "redactions": "cardNumber:1,email:1", "redactCategories": "pci,contact", "call": "other",
                ]
                try await catalog.insertTranscript(record, actor: "worker", details: details)
                let created = try #require(try await catalog.audit.entries().first { $0.action == .transcriptCreated })
                #expect(
                    created.detailValues == [
                        "call": call.id, "engine": "whisper", "redactions": "cardNumber:1,email:1",
                        "redactCategories": "pci,contact",
                    ]
                )
            }
        }
    }
}
