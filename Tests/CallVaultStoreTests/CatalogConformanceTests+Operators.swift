import CallVaultCrypto
import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// Web console operators and the console's call listing through ``CatalogStore``, the same on SQLite
/// and PostgreSQL.
extension CatalogConformance {
    @Suite("Catalog conformance: console operators and call pages (SQLite and PostgreSQL)")
    struct CatalogOperatorsConformanceTests {
        static let hash = "scrypt$1024$8$1$" + String(repeating: "ab", count: 16) + "$" + String(repeating: "cd", count: 32)

        @Test(arguments: Backend.all)
        func anOperatorsTOTPIsStoredAcceptsEachStepOnceAndIsAuditedWithoutTheSecret(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                _ = try await catalog.addOperator(
                    name: "alice", passwordHash: Self.hash, globalAdmin: false, roles: [acme.id: .admin], actor: "cli", at: Date())
                #expect(try await catalog.operatorCredentials(name: "alice")?.totp == nil)
                #expect(try await !catalog.acceptOperatorTOTPStep(name: "alice", step: 100), "no TOTP, no step accepted")
                let secret = Array(UInt8(200)...UInt8(219))
                let short = await catalogError {
                    try await catalog.setOperatorTOTP(name: "alice", secret: .plain([1, 2, 3]), actor: "cli", at: Date())
                }
                #expect(short?.code == .invalidArgument)
                try await catalog.setOperatorTOTP(name: "alice", secret: .plain(secret), actor: "cli", at: Date())
                let stored = try #require(try await catalog.operatorCredentials(name: "alice")?.totp)
                #expect(stored.secret == .plain(secret) && stored.lastStep == nil)
                #expect(try await catalog.operatorCredentials(name: "alice")?.account.totp == true)
                #expect(try await catalog.operators().first { $0.name == "alice" }?.totp == true)
                #expect(!"\(stored)".contains("200"), "no description shows the secret")
                let again = await catalogError {
                    try await catalog.setOperatorTOTP(name: "alice", secret: .plain(secret), actor: "cli", at: Date())
                }
                #expect(again?.code == .duplicate, "enrolling again needs a disable first")

                #expect(try await catalog.acceptOperatorTOTPStep(name: "alice", step: 100))
                #expect(try await !catalog.acceptOperatorTOTPStep(name: "alice", step: 100), "a step is accepted once")
                #expect(try await !catalog.acceptOperatorTOTPStep(name: "alice", step: 99), "nor an earlier one after it")
                #expect(try await catalog.acceptOperatorTOTPStep(name: "alice", step: 101))
                #expect(try await catalog.operatorCredentials(name: "alice")?.totp?.lastStep == 101)
                #expect(try await !catalog.acceptOperatorTOTPStep(name: "nobody", step: 200))

                try await catalog.setOperatorTOTP(name: "alice", secret: nil, actor: "cli", at: Date())
                #expect(try await catalog.operatorCredentials(name: "alice")?.totp == nil)
                #expect(try await catalog.operators().first { $0.name == "alice" }?.totp == false)
                let none = await catalogError { try await catalog.setOperatorTOTP(name: "alice", secret: nil, actor: "cli", at: Date()) }
                #expect(none?.code == .notFound)
                let unknown = await catalogError {
                    try await catalog.setOperatorTOTP(name: "nobody", secret: .plain(secret), actor: "cli", at: Date())
                }
                #expect(unknown?.code == .notFound)
                // Enrolled again: a new secret starts with no step accepted.
                try await catalog.setOperatorTOTP(name: "alice", secret: .plain(Array(repeating: 7, count: 20)), actor: "cli", at: Date())
                #expect(try await catalog.operatorCredentials(name: "alice")?.totp?.lastStep == nil)

                // Sealed: kept as it is given, and a plain secret is sealed in place only while it is still
                // the one stored, keeping its last step (no replay after sealing).
                #expect(try await catalog.acceptOperatorTOTPStep(name: "alice", step: 500))
                let sealed = Array(repeating: UInt8(0x5A), count: 49)
                #expect(try await !catalog.sealOperatorTOTP(name: "alice", plain: secret, sealed: sealed), "not the stored one")
                #expect(try await catalog.sealOperatorTOTP(name: "alice", plain: Array(repeating: 7, count: 20), sealed: sealed))
                let resealed = try #require(try await catalog.operatorCredentials(name: "alice")?.totp)
                #expect(resealed.secret == .sealed(sealed) && resealed.lastStep == 500)
                #expect(try await !catalog.acceptOperatorTOTPStep(name: "alice", step: 500))
                #expect(try await catalog.acceptOperatorTOTPStep(name: "alice", step: 501), "a sealed secret still takes codes")
                #expect(try await catalog.operators().first { $0.name == "alice" }?.totp == true)
                let wrongLength = await catalogError {
                    _ = try await catalog.sealOperatorTOTP(name: "alice", plain: sealed, sealed: [1, 2, 3])
                }
                #expect(wrongLength?.code == .invalidArgument)
                try await catalog.setOperatorTOTP(name: "alice", secret: nil, actor: "cli", at: Date())
                try await catalog.setOperatorTOTP(name: "alice", secret: .sealed(sealed), actor: "cli", at: Date())
                #expect(try await catalog.operatorCredentials(name: "alice")?.totp?.secret == .sealed(sealed))
                let again2 = await catalogError {
                    try await catalog.setOperatorTOTP(name: "alice", secret: .plain(secret), actor: "cli", at: Date())
                }
                #expect(again2?.code == .duplicate, "a sealed secret counts as one")

                let entries = try await catalog.audit.entries()
                #expect(entries.filter { $0.action == .operatorTOTPEnabled }.count == 3)
                #expect(entries.filter { $0.action == .operatorTOTPDisabled }.count == 2, "sealing in place is not audited")
                let totpEntries = entries.filter { $0.action.rawValue.hasPrefix("operator.totp") }
                #expect(totpEntries.allSatisfy { $0.subjectId == "alice" && $0.detailValues.isEmpty }, "no secret in details")
                #expect(try await catalog.audit.verify().isIntact)
            }
        }

        @Test(arguments: Backend.all)
        func anOperatorIsStoredWithItsRolesAuditedAndRemoved(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                let globex = try await fixture.tenant("globex")
                let added = try await catalog.addOperator(
                    name: "alice", passwordHash: Self.hash, globalAdmin: false, roles: [acme.id: .agent, globex.id: .viewer],
                    actor: "cli", at: Date())
                #expect(added.role(in: acme.id) == .agent && added.role(in: globex.id) == .viewer)
                let found = try #require(try await catalog.operatorCredentials(name: "alice"))
                #expect(found.passwordHash == Self.hash)
                #expect(found.account.roles == [acme.id: .agent, globex.id: .viewer] && !found.account.globalAdmin)
                _ = try await catalog.addOperator(
                    name: "root", passwordHash: Self.hash, globalAdmin: true, roles: [:], actor: "cli", at: Date())
                #expect(try await catalog.operators().map(\.name) == ["alice", "root"])
                #expect(try await catalog.operatorCredentials(name: "root")?.account.role(in: globex.id) == .admin)
                #expect(try await catalog.operatorCredentials(name: "nobody") == nil)

                let duplicate = await catalogError {
                    _ = try await catalog.addOperator(
                        name: "alice", passwordHash: Self.hash, globalAdmin: true, roles: [:], actor: "cli", at: Date())
                }
                #expect(duplicate?.code == .duplicate)
                let unknownTenant = await catalogError {
                    _ = try await catalog.addOperator(
                        name: "bob", passwordHash: Self.hash, globalAdmin: false, roles: ["nope": .viewer], actor: "cli", at: Date())
                }
                #expect(unknownTenant?.code == .notFound)
                #expect(try await catalog.operatorCredentials(name: "bob") == nil, "a refused operator leaves no row")
                let plaintext = await catalogError {
                    _ = try await catalog.addOperator(
                        name: "carol", passwordHash: "hunter2", globalAdmin: true, roles: [:], actor: "cli", at: Date())
                }
                #expect(plaintext?.code == .invalidArgument, "only scrypt hashes are stored")

                try await catalog.removeOperator(name: "alice", actor: "cli", at: Date())
                #expect(try await catalog.operatorCredentials(name: "alice") == nil)
                let missing = await catalogError { try await catalog.removeOperator(name: "alice", actor: "cli", at: Date()) }
                #expect(missing?.code == .notFound)
                let actions = try await catalog.audit.entries().map(\.action)
                #expect(actions.filter { $0 == .operatorAdded }.count == 2 && actions.contains(.operatorRemoved))
                let details = try await catalog.audit.entries().filter { $0.action == .operatorAdded }.map(\.details).joined()
                #expect(!details.contains("scrypt"), "no password hash in the audit log")
                #expect(try await catalog.audit.verify().isIntact)
            }
        }

        @Test(arguments: Backend.all)
        func callPagesFollowAKeysetCursorWithinTenantsAndDates(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                let globex = try await fixture.tenant("globex")
                let start = Date(timeIntervalSince1970: 1_800_000_000)
                var acmeCalls: [CallRecord] = []
                for index in 0..<7 {
                    // Two calls share each start time, so the cursor's tie-break on the id is exercised.
                    acmeCalls.append(
                        try await catalog.registerCall(
                            tenantID: acme.id, externalID: "CA-acme-\(index)", callerNumber: nil,
                            startedAt: start.addingTimeInterval(Double(index / 2) * 60), actor: "test", callerKeys: nil))
                }
                _ = try await catalog.registerCall(
                    tenantID: globex.id, externalID: "CA-globex", callerNumber: nil, startedAt: start, actor: "test", callerKeys: nil)
                var seen: [String] = []
                var query = CallSummaryQuery(tenantIDs: [acme.id], limit: 3)
                while true {
                    let page = try await catalog.callSummaries(matching: query)
                    seen += page.map(\.id)
                    guard page.count == 3, let last = page.last else { break }
                    query.after = (last.startedAt, last.id)
                }
                let expected = acmeCalls.sorted { ($0.startedAt, $1.id) > ($1.startedAt, $0.id) }.map(\.id)
                #expect(seen == expected, "every acme call once, newest first, ties by id")
                let window = try await catalog.callSummaries(
                    matching: CallSummaryQuery(
                        tenantIDs: [acme.id], startedFrom: start.addingTimeInterval(60), startedBefore: start.addingTimeInterval(180)))
                #expect(Set(window.map(\.externalId)) == ["CA-acme-2", "CA-acme-3", "CA-acme-4", "CA-acme-5"])
                #expect(try await catalog.callSummaries(matching: CallSummaryQuery(tenantIDs: [])).isEmpty)
                #expect(try await catalog.callSummaries(matching: CallSummaryQuery()).count == 8)
            }
        }
    }
}
