public import CallVaultModel
public import CallVaultStore
import Foundation
import Logging

/// A real data directory in a ``TemporaryDirectory``: created, with a file root key, an open key store
/// and catalog. What the recorder, retention, transcription and ingest tests start from; removed when
/// released.
public final class TestDataDirectory {
    public let temporary: TemporaryDirectory
    public let directory: DataDirectory
    public let keyStore: KeyStore
    public let catalog: Catalog

    /// The temporary folder that holds the data directory (`root + "/data"`).
    public var root: String { temporary.path }

    public init(_ label: String) throws {
        temporary = try TemporaryDirectory(label)
        directory = DataDirectory(path: temporary.path + "/data")
        try directory.create()
        try FileRootKey(path: directory.rootKeyPath).create()
        keyStore = try KeyStore(dataDirectory: directory, logger: Logger(label: "test"))
        catalog = try Catalog(path: directory.catalogPath)
    }

    /// Adds a tenant and creates its keys; returns it with its API token.
    @discardableResult
    public func addTenant(_ name: String, policy: TenantPolicy = TenantPolicy()) throws -> (
        tenant: Tenant, token: String
    ) {
        let added = try catalog.addTenant(name: name, policy: policy)
        try keyStore.createTenant(added.tenant.id)
        return added
    }
}
