import CallVaultCrypto
import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// The catalog's behaviour through ``CatalogStore``, the same on SQLite and PostgreSQL: tenants and
/// call registration. Other areas have their own files (`CatalogConformanceTests+…`).
extension CatalogConformance {
    @Suite("Catalog conformance: tenants and calls (SQLite and PostgreSQL)")
    struct CatalogConformanceTests {
        @Test(arguments: Backend.all)
        func aTenantIsFoundByIdNameAndTokenAndItsCreationIsAudited(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let policy = TenantPolicy(consentMode: .optOut, requireDisclosure: true, voiceDays: 30)
                let (tenant, token) = try await catalog.addTenant(name: " acme ", policy: policy, actor: "test", at: Date())
                #expect(tenant.name == "acme" && tenant.policy == policy)
                #expect(try await catalog.tenant(id: tenant.id) == tenant)
                #expect(try await catalog.tenants() == [tenant])
                #expect(try await catalog.tenant(authenticatedBy: token) == tenant)
                #expect(try await catalog.tenant(authenticatedBy: token + "x") == nil)
                #expect(try await catalog.tenant(authenticatedBy: "not a token") == nil)
                let entries = try await catalog.audit.entries()
                #expect(entries.map(\.action) == [.tenantCreated] && entries.first?.subjectId == tenant.id)
                #expect(try await catalog.audit.verify() == .intact(entries: 1, headHash: Array(entries[0].hash)))
            }
        }

        @Test(arguments: Backend.all)
        func aSecondTenantOfTheSameNameOrABadPolicyIsRefusedAndChangesNothing(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let first = try await fixture.tenant("acme")
                let duplicate = await catalogError { try await fixture.tenant("acme") }
                #expect(duplicate?.code == .duplicate, "\(String(describing: duplicate))")
                #expect(duplicate?.message.contains("acme") == true)
                let badPolicy = await catalogError { try await fixture.tenant("other", policy: TenantPolicy(voiceDays: 91)) }
                #expect(badPolicy?.code == .invalidPolicy, "a 91-day voice retention: \(String(describing: badPolicy))")
                #expect(try await catalog.tenants() == [first])
                #expect(try await catalog.audit.entries().count == 1)
            }
        }

        @Test(arguments: Backend.all)
        func aPolicyChangeIsStoredAndAuditedWithTheFieldsThatChanged(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                var policy = tenant.policy
                policy.voiceDays = 7
                policy.transcriptLanguage = "de"
                let changed = try await catalog.updatePolicy(ofTenant: tenant.id, to: policy, actor: "test", at: Date())
                #expect(changed.policy == policy && changed.createdAt == tenant.createdAt)
                #expect(try await catalog.tenant(id: tenant.id) == changed)
                let entry = try #require(try await catalog.audit.entries().last)
                #expect(entry.action == .tenantPolicyChanged)
                #expect(entry.details.contains("\"changed\":\"transcriptLanguage,voiceDays\""), "\(entry.details)")
                do {
                    let error = await catalogError {
                        try await catalog.updatePolicy(ofTenant: "no-such", to: policy, actor: "test", at: Date())
                    }
                    #expect(error != nil, "an unknown tenant's policy changed")
                    #expect(error?.code == .notFound)
                }
            }
        }

        @Test(arguments: Backend.all)
        func aCallIsRegisteredOncePerTenantAndFoundByIdAndPlatformId(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                let other = try await fixture.tenant("other")
                let call = try await fixture.call(of: acme, "CA1")
                #expect(try await catalog.call(id: call.id, tenantID: nil) == call)
                #expect(try await catalog.call(id: call.id, tenantID: acme.id) == call)
                #expect(try await catalog.call(tenantID: acme.id, externalID: "CA1") == call)
                #expect(try await catalog.call(tenantID: other.id, externalID: "CA1") == nil)
                do {
                    let error = await catalogError {
                        try await catalog.call(id: call.id, tenantID: other.id)
                    }
                    #expect(error != nil, "another tenant read the call")
                    #expect(error?.code == .notFound)
                }
                do {
                    let error = await catalogError {
                        try await fixture.call(of: acme, "CA1")
                    }
                    #expect(error != nil, "a call was registered twice")
                    #expect(error?.code == .duplicate && error?.message.contains("CA1") == true, "\(String(describing: error))")
                }
                // The same platform id under another tenant is another call.
                let theirs = try await fixture.call(of: other, "CA1")
                #expect(theirs.id != call.id)
                do {
                    let error = await catalogError {
                        try await catalog.registerCall(
                                        tenantID: "no-such", externalID: "CA2", callerNumber: nil, startedAt: Date(), actor: "test",
                                        callerKeys: nil)
                    }
                    #expect(error != nil, "a call was registered for no tenant")
                    #expect(error?.code == .notFound, "\(String(describing: error))")
                }
                let started = try await catalog.audit.entries().filter { $0.action == .callStarted }
                #expect(started.map(\.subjectId) == [call.id, theirs.id])
                #expect(try await catalog.audit.verify().isIntact)
            }
        }

        @Test(arguments: Backend.all)
        func aCallersNumberIsKeptOnlyHashedAndSealed(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let keys = CallerKeys(hashKey: try SecretKey(randomByteCount: 32), encryptionKey: try SecretKey(randomByteCount: 32))
                do {
                    let error = await catalogError {
                        try await catalog.registerCall(
                                        tenantID: tenant.id, externalID: "CA1", callerNumber: "+15551234567", startedAt: Date(),
                                        actor: "test", callerKeys: nil)
                    }
                    #expect(error != nil, "a number was accepted without keys to protect it")
                    #expect(error?.code == .invalidArgument && error?.message.contains("5551234567") == false)
                }
                let call = try await catalog.registerCall(
                    tenantID: tenant.id, externalID: "CA1", callerNumber: "+15551234567", startedAt: Date(), actor: "test",
                    callerKeys: keys)
                #expect(call.callerHash?.count == 32 && call.callerEncrypted != nil)
                #expect(try await catalog.call(id: call.id, tenantID: nil) == call)
                if let database = fixture.postgresDatabase {
                    let dump = try PostgresServer.shared().psql(database: database, "SELECT * FROM calls")
                    #expect(!dump.contains("5551234567"))
                }
            }
        }
    }
}
