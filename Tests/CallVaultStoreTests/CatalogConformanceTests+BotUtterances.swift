import CallVaultCrypto
import CallVaultModel
import CallVaultTestSupport
import Foundation
import Logging
import Testing

@testable import CallVaultStore

extension CatalogConformance {
    /// The bot's utterances (issue 22): sealed in the catalog under the call's bot-text key, placed by a
    /// mark unless their start was given, and gone (key destroyed, rows deleted) once discarded.
    @Suite("Catalog conformance: the bot's utterances (SQLite and PostgreSQL)")
    struct BotUtteranceConformanceTests {
        @Test(arguments: Backend.all)
        func utterancesAreSealedPlacedByMarksAndDiscardedWithTheirKey(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                let data = DataDirectory(path: fixture.directory + "/keys")
                try data.create()
                try FileRootKey(path: data.rootKeyPath).create()
                let keyStore = try KeyStore(dataDirectory: data, logger: Logger(label: "test"))
                try keyStore.createTenant(tenant.id)
                let vault = BotUtteranceVault(catalog: fixture.catalog, keyStore: keyStore)
                let secret = "Your card ending 4242 is booked for the ninth"

                try await vault.store(
                    text: secret, callID: call.id, tenantID: tenant.id, utteranceID: "u1", startMs: 1_000, endMs: nil,
                    placement: .arrival)
                try await vault.store(
                    text: "Goodbye.", callID: call.id, tenantID: tenant.id, utteranceID: "u2", startMs: 500, endMs: 900,
                    placement: .given)
                let duplicate = await catalogError {
                    try await vault.store(
                        text: "again", callID: call.id, tenantID: tenant.id, utteranceID: "u1", startMs: 2_000,
                        endMs: nil, placement: .arrival)
                }
                #expect(duplicate?.code == .duplicate)
                let empty = await catalogError {
                    try await vault.store(
                        text: "", callID: call.id, tenantID: tenant.id, utteranceID: "u3", startMs: 0, endMs: nil,
                        placement: .arrival)
                }
                #expect(empty?.code == .invalidArgument)
                let unknownCall = await catalogError {
                    try await vault.store(
                        text: "hi", callID: "no-such-call", tenantID: tenant.id, utteranceID: "u1", startMs: 0,
                        endMs: nil, placement: .arrival)
                }
                #expect(unknownCall?.code == .notFound)

                // A mark moves an utterance placed on arrival, never one whose start was given.
                #expect(try await fixture.catalog.placeBotUtterance(callID: call.id, utteranceID: "u1", atMs: 1_250))
                #expect(try await fixture.catalog.placeBotUtterance(callID: call.id, utteranceID: "u2", atMs: 3_000) == false)
                #expect(try await fixture.catalog.placeBotUtterance(callID: call.id, utteranceID: "nope", atMs: 3_000) == false)

                let opened = try await vault.texts(callID: call.id, tenantID: tenant.id)
                #expect(opened.map(\.text) == ["Goodbye.", secret], "by start")
                #expect(opened.map(\.utterance.startMs) == [500, 1_250])
                #expect(opened.map(\.utterance.placement) == [.given, .mark])
                #expect(opened.first?.utterance.endMs == 900)

                // Sealed: the catalog's bytes hold no text, and a sealed text moved to another utterance
                // does not open.
                let stored = try await fixture.catalog.botUtterances(callID: call.id)
                #expect(stored.allSatisfy { !String(decoding: $0.sealedText, as: UTF8.self).contains("4242") })
                if let database = fixture.postgresDatabase {
                    let dump = try await offCooperativePool {
                        try PostgresServer.shared().psql(database: database, "SELECT * FROM bot_utterances")
                    }
                    #expect(!dump.contains("4242") && !dump.contains("booked"))
                } else {
                    for suffix in ["", "-wal"] {
                        let path = fixture.directory + "/" + Catalog.fileName + suffix
                        guard let file = FileManager.default.contents(atPath: path) else { continue }
                        #expect(file.range(of: Data("booked".utf8)) == nil, "\(path)")
                    }
                }
                let key = try keyStore.dataKey(ownerID: BotUtteranceVault.keyOwner(callID: call.id), tenantID: tenant.id)
                let moved = try #require(stored.first { $0.utteranceId == "u1" })
                #expect(throws: CryptoError.self) {
                    try SealedText.open(moved.sealedText, key: key, aad: BotUtteranceVault.aad(callID: call.id, utteranceID: "u2"))
                }

                try await vault.discard(callID: call.id, tenantID: tenant.id)
                try await vault.discard(callID: call.id, tenantID: tenant.id)
                #expect(try await fixture.catalog.botUtterances(callID: call.id).isEmpty)
                #expect(try await vault.texts(callID: call.id, tenantID: tenant.id).isEmpty)
                let late = await catalogError {
                    try await vault.store(
                        text: "late", callID: call.id, tenantID: tenant.id, utteranceID: "u9", startMs: 0, endMs: nil,
                        placement: .arrival)
                }
                #expect(late?.code == .restricted, "the call's transcript holds its words now: \(String(describing: late))")
            }
        }
    }
}
