import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// The catalog conformance suites (`CatalogConformanceTests*.swift`), one test at a time: each PostgreSQL
/// case makes a database and a pool, and sixty of them at once beside the rest of the suite starve the
/// machine's two cores.
@Suite(.serialized) enum CatalogConformance {}

/// A catalog under test on a fresh store of one backend: the embedded SQLite file of a temporary data
/// directory, or a fresh database on the test PostgreSQL server. The conformance suites
/// (`CatalogConformanceTests*`) run every test on both, through ``CatalogStore`` only.
struct CatalogFixture: Sendable {
    let backend: Backend
    let catalog: any CatalogStore
    /// The PostgreSQL database's name (nil for SQLite), for tests that look inside with `psql`.
    let postgresDatabase: String?
    /// A data directory for files the test writes (sealed recordings, transcripts).
    let directory: String
    let tearDown: @Sendable () async -> Void

    static func make(_ backend: Backend) async throws -> CatalogFixture {
        let directory = try CatalogTestDirectory()
        let removeDirectory: @Sendable () -> Void = { [path = directory.path] in
            try? FileManager.default.removeItem(atPath: path)
        }
        switch backend {
        case .sqlite:
            let catalog = try Catalog(directory: directory.path)
            return CatalogFixture(
                backend: backend, catalog: catalog, postgresDatabase: nil, directory: directory.path,
                tearDown: removeDirectory)
        case .postgres:
            let server = try PostgresServer.shared()
            let database = try await server.createDatabaseOffPool()
            let catalog = try await PostgresCatalog.open(
                server.settings(database: database, maximumConnections: 4), logger: PostgresServer.quietLogger)
            return CatalogFixture(
                backend: backend, catalog: catalog, postgresDatabase: database, directory: directory.path,
                tearDown: {
                    await catalog.close()
                    await server.dropDatabaseOffPool(database)
                    removeDirectory()
                })
        }
    }

    /// Runs `body` on a fresh fixture and tears it down after, whether `body` threw or not.
    static func with(_ backend: Backend, _ body: (CatalogFixture) async throws -> Void) async throws {
        let fixture = try await make(backend)
        do {
            try await body(fixture)
        } catch {
            await fixture.tearDown()
            throw error
        }
        await fixture.tearDown()
    }

    /// A tenant with the default policy, or `policy`.
    func tenant(_ name: String = "acme", policy: TenantPolicy = TenantPolicy()) async throws -> Tenant {
        try await catalog.addTenant(name: name, policy: policy, actor: "test", at: Date()).tenant
    }

    /// A call of `tenant` registered now.
    func call(of tenant: Tenant, _ externalID: String = "CA-\(UUID().uuidString)") async throws -> CallRecord {
        try await catalog.registerCall(
            tenantID: tenant.id, externalID: externalID, callerNumber: nil, startedAt: Date(), actor: "test",
            callerKeys: nil)
    }
}

/// The ``CatalogError`` `body` throws, or nil when it returns (a test records that as a failure
/// through its own expectation on the result).
func catalogError<T>(_ body: () async throws -> T) async -> CatalogError? {
    do {
        _ = try await body()
        return nil
    } catch let error as CatalogError {
        return error
    } catch {
        Issue.record("expected a CatalogError, got \(error)")
        return nil
    }
}
