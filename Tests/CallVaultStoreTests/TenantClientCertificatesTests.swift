import CallVaultModel
import Foundation
import GRDB
import Testing

@testable import CallVaultStore

/// A tenant's pinned client certificates (`--client-cert`, issue 18): the fingerprint spelling, the limits,
/// the column (SQLite v17, PostgreSQL 18), the audit entry.
@Suite struct TenantClientCertificatesTests {
    static let first = String(repeating: "ab", count: 32)
    static let second = String(repeating: "0f", count: 32)

    @Test func aFingerprintIsTakenWithColonsAndInAnyCaseAndStoredAsLowercaseHex() throws {
        let colons = (0..<32).map { _ in "AB" }.joined(separator: ":")
        #expect(try TenantClientCertificates.fingerprint(colons) == Self.first)
        #expect(try TenantClientCertificates.fingerprint(" " + Self.second.uppercased()) == Self.second)
        for bad in ["", "abc", String(repeating: "g", count: 64), String(repeating: "a", count: 66)] {
            #expect(throws: CatalogError.self) { try TenantClientCertificates.fingerprint(bad) }
        }
    }

    @Test func moreThanTenPinsARepeatOrAMalformedPinIsRefusedBeforeTheCatalog() {
        let eleven = (0..<11).map { String(format: "%064x", $0) }
        #expect {
            try TenantPolicy(clientCertificates: TenantClientCertificates(fingerprints: eleven)).validate()
        } throws: { ($0 as? CatalogError)?.message.contains("11 client certificates are pinned: the limit is 10") == true }
        #expect(throws: CatalogError.self) {
            try TenantClientCertificates(fingerprints: [Self.first, Self.first]).validate()
        }
        #expect(throws: CatalogError.self) {
            try TenantClientCertificates(fingerprints: [Self.first.uppercased()]).validate()
        }
        #expect(throws: Never.self) { try TenantClientCertificates(fingerprints: Array(eleven.prefix(10))).validate() }
    }

    @Test func theColumnIsNullForNoneAndAPolicyWithoutTheFieldReadsAsNone() throws {
        #expect(TenantClientCertificates().columnText == nil)
        let pins = TenantClientCertificates(fingerprints: [Self.first, Self.second])
        #expect(pins.columnText == "\(Self.first),\(Self.second)")
        #expect(TenantClientCertificates(columnText: pins.columnText) == pins)
        // A value this build did not write only narrows: what is not a fingerprint is dropped.
        #expect(TenantClientCertificates(columnText: "junk,\(Self.first)").fingerprints == [Self.first])
        var object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(TenantPolicy(clientCertificates: pins))) as? [String: Any])
        #expect(object["clientCertificates"] as? [String] == [Self.first, Self.second], "tenant show --json lists them")
        object["clientCertificates"] = nil
        let old = try JSONSerialization.data(withJSONObject: object)
        #expect(try JSONDecoder().decode(TenantPolicy.self, from: old).clientCertificates.isEmpty)
    }

    @Test func aCatalogFileKeepsThePinsInOneColumn() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        #expect(try catalog.appliedMigrations().contains("v17"))
        _ = try catalog.addTenant(name: "plain")
        let pins = TenantClientCertificates(fingerprints: [Self.first])
        let pinned = try catalog.addTenant(name: "pinned", policy: TenantPolicy(clientCertificates: pins)).tenant
        let stored = try catalog.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, client_certs FROM tenants ORDER BY name").map {
                [$0["name"] as String, $0["client_certs"] as String? ?? "NULL"]
            }
        }
        #expect(stored == [["pinned", Self.first], ["plain", "NULL"]])
        #expect(try Catalog(directory: directory.path).tenant(id: pinned.id).policy.clientCertificates == pins)
    }
}

extension CatalogConformance {
    @Suite("Catalog conformance: a tenant's pinned client certificates (SQLite and PostgreSQL)")
    struct TenantClientCertificatesConformanceTests {
        @Test(arguments: Backend.all)
        func thePinsRoundTripAndAChangeIsAuditedWithTheFingerprints(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let first = TenantClientCertificatesTests.first
                let second = TenantClientCertificatesTests.second
                let policy = TenantPolicy(clientCertificates: TenantClientCertificates(fingerprints: [first]))
                let (tenant, token) = try await catalog.addTenant(name: "acme", policy: policy, actor: "test", at: Date())
                #expect(try await catalog.tenant(id: tenant.id).policy == policy)
                #expect(try await catalog.tenant(authenticatedBy: token)?.policy.clientCertificates.fingerprints == [first])
                let created = try #require(try await catalog.audit.entries().last)
                #expect(created.details.contains("\"clientCertificates\":\"1\""), "\(created.details)")
                #expect(created.details.contains(first), "fingerprints are not secret: the audit log names them")

                var changed = policy
                changed.clientCertificates.fingerprints = [first, second]
                _ = try await catalog.updatePolicy(ofTenant: tenant.id, to: changed, actor: "test", at: Date())
                #expect(try await catalog.tenant(id: tenant.id).policy.clientCertificates.fingerprints == [first, second])
                let entry = try #require(try await catalog.audit.entries().last)
                #expect(entry.details.contains("clientCertificateFingerprints"), "\(entry.details)")

                changed.clientCertificates = TenantClientCertificates()
                _ = try await catalog.updatePolicy(ofTenant: tenant.id, to: changed, actor: "test", at: Date())
                #expect(try await catalog.tenants().map(\.policy.clientCertificates) == [TenantClientCertificates()])
            }
        }
    }
}
