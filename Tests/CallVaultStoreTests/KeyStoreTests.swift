import CallVaultCrypto
import CallVaultModel
import CallVaultTestSupport
import Foundation
import GRDB
import Logging
import Testing

@testable import CallVaultStore

@Suite struct KeyStoreTests {
    let day = try! CalendarDay("2026-12-01")

    @Test func everyConnectionHasSecureDeleteAndWAL() throws {
        let temp = try TemporaryDirectory()
        let (directory, store) = try temp.makeStore()
        #expect(mode(of: directory.keyStorePath) == 0o600)
        let readerValue = try store.database.read { db in try Int.fetchOne(db, sql: "PRAGMA secure_delete") }
        let writerValue = try store.database.write { db in try Int.fetchOne(db, sql: "PRAGMA secure_delete") }
        #expect(readerValue == 1)
        #expect(writerValue == 1)
        let journal = try store.database.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
        let synchronous = try store.database.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(synchronous == 2, "FULL: a committed key survives power loss")
        let migrations = try store.database.read { db in try KeyStore.migrator.appliedIdentifiers(db) }
        #expect(migrations.contains("v1-key-hierarchy"))
    }

    @Test func dataKeyRoundTripsAndSurvivesReopening() throws {
        let temp = try TemporaryDirectory()
        let (directory, store) = try temp.makeStore()
        try store.createTenant("acme")
        let created = try store.newDataKey(tenantID: "acme", ownerID: "rec-1", kind: .voice, expiresOn: day)
        #expect(created.key.count == 32)
        let fetched = try store.dataKey(ownerID: "rec-1", tenantID: "acme")
        #expect(bytes(of: fetched) == bytes(of: created.key))
        let withID = try store.dataKeyWithID(ownerID: "rec-1", tenantID: "acme")
        #expect(withID.keyID == created.keyID)

        let second = try store.newDataKey(tenantID: "acme", ownerID: "rec-2", kind: .voice, expiresOn: day)
        #expect(bytes(of: second.key) != bytes(of: created.key))
        #expect(second.keyID != created.keyID)
        let dayKeys = try store.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM day_key") }
        #expect(dayKeys == 1, "both data keys share the day key of their expiry day")

        let reopened = try KeyStore(dataDirectory: directory, logger: Logger(label: "test"))
        #expect(bytes(of: try reopened.dataKey(ownerID: "rec-1", tenantID: "acme")) == bytes(of: created.key))
        #expect(
            try reopened.dataKeyStatus(ownerID: "rec-1", tenantID: "acme")
                == .active(keyID: created.keyID, kind: .voice, expiresOn: day, held: false)
        )
    }

    @Test func refusesUnknownDuplicateAndForeignIDs() throws {
        let temp = try TemporaryDirectory()
        let (_, store) = try temp.makeStore()
        try store.createTenant("acme")
        try store.createTenant("globex")
        #expect(try store.hasTenant("acme"))
        #expect(try !store.hasTenant("initech"))
        #expect(errorCode { try store.createTenant("acme") } == .tenantExists)
        #expect(
            errorCode { try store.newDataKey(tenantID: "initech", ownerID: "r", kind: .voice, expiresOn: day) }
                == .unknownTenant
        )
        _ = try store.newDataKey(tenantID: "acme", ownerID: "rec-1", kind: .voice, expiresOn: day)
        #expect(
            errorCode { try store.newDataKey(tenantID: "acme", ownerID: "rec-1", kind: .voice, expiresOn: day) }
                == .dataKeyExists
        )
        #expect(errorCode { try store.dataKey(ownerID: "rec-404", tenantID: "acme") } == .unknownDataKey)
        // Another tenant asking for acme's recording learns nothing: it is unknown to it.
        #expect(errorCode { try store.dataKey(ownerID: "rec-1", tenantID: "globex") } == .unknownDataKey)
        #expect(try store.dataKeyStatus(ownerID: "rec-1", tenantID: "globex") == .unknown)
        #expect(errorCode { try store.createTenant("../acme") } == .invalidIdentifier)
        #expect(
            errorCode { try store.newDataKey(tenantID: "acme", ownerID: "a/b", kind: .voice, expiresOn: day) }
                == .invalidIdentifier
        )
    }

    @Test func oneTenantsKeyCannotUnwrapAnothersDayKey() throws {
        let temp = try TemporaryDirectory()
        let (_, store) = try temp.makeStore()
        try store.createTenant("acme")
        try store.createTenant("globex")
        _ = try store.newDataKey(tenantID: "acme", ownerID: "acme-rec", kind: .voice, expiresOn: day)
        _ = try store.newDataKey(tenantID: "globex", ownerID: "globex-rec", kind: .voice, expiresOn: day)
        // An attacker with write access to keys.sqlite swaps the two tenants' wrapped day keys.
        try store.database.write { db in
            let acme = try #require(
                try Data.fetchOne(db, sql: "SELECT wrapped FROM day_key WHERE tenant_id = 'acme'")
            )
            let globex = try #require(
                try Data.fetchOne(db, sql: "SELECT wrapped FROM day_key WHERE tenant_id = 'globex'")
            )
            try db.execute(sql: "UPDATE day_key SET wrapped = ? WHERE tenant_id = 'acme'", arguments: [globex])
            try db.execute(sql: "UPDATE day_key SET wrapped = ? WHERE tenant_id = 'globex'", arguments: [acme])
        }
        #expect(errorCode { try store.dataKey(ownerID: "acme-rec", tenantID: "acme") } == .unwrapFailed)
        #expect(errorCode { try store.dataKey(ownerID: "globex-rec", tenantID: "globex") } == .unwrapFailed)
        // Moving the rows themselves (tenant column) to another tenant fails the same way.
        try store.createTenant("initech")
        try store.database.write { db in
            try db.execute(sql: "UPDATE day_key SET tenant_id = 'initech' WHERE tenant_id = 'acme'")
            try db.execute(sql: "UPDATE data_key SET tenant_id = 'initech' WHERE owner_id = 'acme-rec'")
        }
        #expect(errorCode { try store.dataKey(ownerID: "acme-rec", tenantID: "initech") } == .unwrapFailed)
    }

    @Test func dataKeyCannotBeMovedToAnotherRecording() throws {
        let temp = try TemporaryDirectory()
        let (_, store) = try temp.makeStore()
        try store.createTenant("acme")
        _ = try store.newDataKey(tenantID: "acme", ownerID: "rec-1", kind: .voice, expiresOn: day)
        _ = try store.newDataKey(tenantID: "acme", ownerID: "rec-2", kind: .voice, expiresOn: day)
        try store.database.write { db in
            let one = try #require(try Data.fetchOne(db, sql: "SELECT wrapped FROM data_key WHERE owner_id = 'rec-1'"))
            try db.execute(sql: "UPDATE data_key SET wrapped = ? WHERE owner_id = 'rec-2'", arguments: [one])
        }
        #expect(try store.dataKey(ownerID: "rec-1", tenantID: "acme").count == 32)
        #expect(errorCode { try store.dataKey(ownerID: "rec-2", tenantID: "acme") } == .unwrapFailed)
    }

    @Test func anotherRootKeyCannotOpenTheTenantKeys() throws {
        let temp = try TemporaryDirectory()
        let (directory, store) = try temp.makeStore()
        try store.createTenant("acme")
        _ = try store.newDataKey(tenantID: "acme", ownerID: "rec-1", kind: .voice, expiresOn: day)
        let otherRoot = FileRootKey(path: temp.path + "/other-root.key")
        try otherRoot.create()
        let impostor = try KeyStore(path: directory.keyStorePath, rootKey: otherRoot, logger: Logger(label: "test"))
        #expect(errorCode { try impostor.dataKey(ownerID: "rec-1", tenantID: "acme") } == .unwrapFailed)
    }
}
