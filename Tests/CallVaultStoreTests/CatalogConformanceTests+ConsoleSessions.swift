import CallVaultCrypto
import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// Console sessions in the catalog, the same on SQLite and PostgreSQL: what lets every `serve` node
/// sharing a catalog know a session another node started, and end it everywhere at once.
extension CatalogConformance {
    @Suite("Catalog conformance: console sessions (SQLite and PostgreSQL)")
    struct CatalogConsoleSessionsConformanceTests {
        static func id(_ n: Int) -> String { Digest.sha256Hex(Array("token \(n)".utf8)) }

        @Test(arguments: Backend.all)
        func aSessionIsSharedRefreshedExpiredAndEndedAndEachChangeIsAudited(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                let hash = CatalogOperatorsConformanceTests.hash
                for name in ["alice", "bob"] {
                    _ = try await catalog.addOperator(
                        name: name, passwordHash: hash, globalAdmin: false, roles: [acme.id: .viewer], actor: "cli", at: Date())
                }
                let t0 = Date(timeIntervalSince1970: (Date().timeIntervalSince1970).rounded())
                func at(_ seconds: Double) -> Date { t0 + seconds }
                func touch(_ id: String, idleSince: Double, refreshBefore: Double, now: Double) async throws -> String? {
                    try await catalog.touchConsoleSession(id: id, idleBefore: at(idleSince), refreshBefore: at(refreshBefore), at: at(now))
                }

                try await catalog.startConsoleSession(
                    id: Self.id(1), operatorName: "alice", details: ["address": "192.0.2.7"], idleBefore: at(-900), at: at(0))
                let signedIn = try #require(try await catalog.audit.entries().last)
                #expect(signedIn.action == .operatorSignedIn && signedIn.subjectId == "alice" && signedIn.actor == "console:alice")
                #expect(signedIn.detailValues == ["address": "192.0.2.7"])
                #expect(try await touch(Self.id(1), idleSince: -900, refreshBefore: -900, now: 0) == "alice")
                #expect(try await touch(Self.id(99), idleSince: -900, refreshBefore: -900, now: 0) == nil, "an unknown session")
                #expect(try await touch("not an id", idleSince: -900, refreshBefore: -900, now: 0) == nil)

                // Refreshed when its last use is older than `refreshBefore`: then it outlives an idle limit
                // that its first use would not have.
                #expect(try await touch(Self.id(1), idleSince: -800, refreshBefore: 55, now: 100) == "alice")
                #expect(try await touch(Self.id(1), idleSince: 50, refreshBefore: 50, now: 120) == "alice")
                // Not refreshed (last use 100, newer than 90): idle since 101, it has ended, and stays ended.
                #expect(try await touch(Self.id(1), idleSince: 50, refreshBefore: 90, now: 130) == "alice")
                #expect(try await touch(Self.id(1), idleSince: 101, refreshBefore: 101, now: 1000) == nil)
                #expect(try await touch(Self.id(1), idleSince: -900, refreshBefore: -900, now: 1000) == nil, "deleted once idle")

                // Refused starts leave nothing behind.
                let entries = try await catalog.audit.entries().count
                let badID = await catalogError {
                    try await catalog.startConsoleSession(id: "short", operatorName: "alice", details: [:], idleBefore: at(0), at: at(1))
                }
                #expect(badID?.code == .invalidArgument)
                let nobody = await catalogError {
                    try await catalog.startConsoleSession(id: Self.id(2), operatorName: "nobody", details: [:], idleBefore: at(0), at: at(1))
                }
                #expect(nobody?.code == .notFound && nobody?.message.contains("nobody") == true)
                #expect(try await catalog.audit.entries().count == entries)
                #expect(try await touch(Self.id(2), idleSince: -900, refreshBefore: -900, now: 1) == nil)

                // Several sessions: one ended, then all of an operator's; another operator's are spared.
                for (n, name) in [(3, "alice"), (4, "alice"), (5, "alice"), (6, "bob"), (7, "bob")] {
                    try await catalog.startConsoleSession(id: Self.id(n), operatorName: name, details: [:], idleBefore: at(0), at: at(2000))
                }
                #expect(try await catalog.endConsoleSessions(id: Self.id(3), operatorName: nil, actor: "console:alice", at: at(2001)) == 1)
                let one = try #require(try await catalog.audit.entries().last)
                #expect(one.action == .operatorSignedOut && one.subjectId == "alice" && one.detailValues == ["sessions": "1"])
                #expect(try await touch(Self.id(3), idleSince: 0, refreshBefore: 0, now: 2001) == nil)
                #expect(try await catalog.endConsoleSessions(id: nil, operatorName: "alice", actor: "cli", at: at(2002)) == 2)
                let all = try #require(try await catalog.audit.entries().last)
                #expect(all.action == .operatorSignedOut && all.actor == "cli" && all.detailValues == ["sessions": "2"])
                #expect(try await touch(Self.id(4), idleSince: 0, refreshBefore: 0, now: 2002) == nil)
                #expect(try await touch(Self.id(6), idleSince: 0, refreshBefore: 0, now: 2002) == "bob")
                let before = try await catalog.audit.entries().count
                #expect(try await catalog.endConsoleSessions(id: Self.id(3), operatorName: nil, actor: "cli", at: at(2003)) == 0)
                #expect(try await catalog.endConsoleSessions(id: nil, operatorName: "alice", actor: "cli", at: at(2003)) == 0)
                #expect(try await catalog.audit.entries().count == before, "nothing ended, nothing audited")
                let both = await catalogError {
                    _ = try await catalog.endConsoleSessions(id: Self.id(6), operatorName: "bob", actor: "cli", at: at(2003))
                }
                #expect(both?.code == .invalidArgument)

                // A new session sweeps the idle ones; removing an operator takes its sessions with it.
                try await catalog.startConsoleSession(id: Self.id(8), operatorName: "alice", details: [:], idleBefore: at(2500), at: at(3000))
                #expect(try await touch(Self.id(7), idleSince: 0, refreshBefore: 0, now: 3000) == nil, "swept by the new session")
                try await catalog.startConsoleSession(id: Self.id(9), operatorName: "bob", details: [:], idleBefore: at(2500), at: at(3000))
                try await catalog.removeOperator(name: "bob", actor: "cli", at: at(3001))
                #expect(try await touch(Self.id(9), idleSince: 0, refreshBefore: 0, now: 3001) == nil)
                #expect(try await touch(Self.id(8), idleSince: 0, refreshBefore: 0, now: 3001) == "alice")
                #expect(try await catalog.audit.verify().isIntact)
            }
        }
            @Test(arguments: Backend.all)
        func aPlaybackGrantIsOnePerSessionRunsOutIsExtendedAndEndsWithItsSession(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                _ = try await catalog.addOperator(
                    name: "alice", passwordHash: CatalogOperatorsConformanceTests.hash, globalAdmin: false,
                    roles: [acme.id: .agent], actor: "cli", at: Date())
                let t0 = Date(timeIntervalSince1970: (Date().timeIntervalSince1970).rounded())
                let session = Self.id(1)
                try await catalog.startConsoleSession(id: session, operatorName: "alice", details: [:], idleBefore: t0 - 900, at: t0)
                let ended = await catalogError {
                    try await catalog.grantConsolePlayback(
                        sessionID: Self.id(2), callID: "call-1", reason: "ticket", overrideReason: nil, expires: t0 + 300)
                }
                #expect(ended?.code == .notFound, "no grant without a live session")

                try await catalog.grantConsolePlayback(
                    sessionID: session, callID: "call-1", reason: "ticket 9", overrideReason: "court order", expires: t0 + 300)
                let grant = try #require(try await catalog.consolePlayback(sessionID: session, callID: "call-1", at: t0 + 10, extendTo: t0))
                #expect(grant == ConsolePlaybackGrant(callID: "call-1", reason: "ticket 9", overrideReason: "court order", expires: t0 + 300))
                #expect(try await catalog.consolePlayback(sessionID: session, callID: "call-2", at: t0, extendTo: t0) == nil)
                #expect(try await catalog.consolePlayback(sessionID: Self.id(3), callID: "call-1", at: t0, extendTo: t0) == nil)
                // Extended, never shortened; past its end it is gone.
                #expect(try await catalog.consolePlayback(sessionID: session, callID: "call-1", at: t0 + 200, extendTo: t0 + 500)?.expires == t0 + 500)
                #expect(try await catalog.consolePlayback(sessionID: session, callID: "call-1", at: t0 + 201, extendTo: t0 + 250)?.expires == t0 + 500)
                #expect(try await catalog.consolePlayback(sessionID: session, callID: "call-1", at: t0 + 500, extendTo: t0 + 900) == nil)
                // A new grant replaces the last: one call at a time.
                try await catalog.grantConsolePlayback(
                    sessionID: session, callID: "call-2", reason: "ticket 10", overrideReason: nil, expires: t0 + 1000)
                #expect(try await catalog.consolePlayback(sessionID: session, callID: "call-1", at: t0 + 600, extendTo: t0) == nil)
                #expect(try await catalog.consolePlayback(sessionID: session, callID: "call-2", at: t0 + 600, extendTo: t0)?.overrideReason == nil)
                // Ends with its session.
                #expect(try await catalog.endConsoleSessions(id: session, operatorName: nil, actor: "cli", at: t0 + 601) == 1)
                #expect(try await catalog.consolePlayback(sessionID: session, callID: "call-2", at: t0 + 602, extendTo: t0) == nil)
            }
        }
            @Test(arguments: Backend.all)
        func failedSignInsLockAPairOutDoublingAndASuccessClearsIt(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let rule = SignInLockout(failuresBeforeLockout: 3, lockout: 30, maximumLockout: 100)
                let t0 = Date(timeIntervalSince1970: (Date().timeIntervalSince1970).rounded())
                for n in 0..<2 {
                    #expect(try await catalog.recordConsoleSignInFailure(name: "alice", address: "10.0.0.1", rule: rule, at: t0 + Double(n)) == nil)
                }
                #expect(try await catalog.consoleSignInLockedUntil(name: "alice", address: "10.0.0.1", at: t0 + 2) == nil)
                #expect(try await catalog.recordConsoleSignInFailure(name: "alice", address: "10.0.0.1", rule: rule, at: t0 + 2) == t0 + 32)
                #expect(try await catalog.consoleSignInLockedUntil(name: "alice", address: "10.0.0.1", at: t0 + 10) == t0 + 32)
                #expect(try await catalog.consoleSignInLockedUntil(name: "alice", address: "10.0.0.2", at: t0 + 10) == nil, "per address")
                #expect(try await catalog.consoleSignInLockedUntil(name: "bob", address: "10.0.0.1", at: t0 + 10) == nil, "per name")
                #expect(try await catalog.consoleSignInLockedUntil(name: "alice", address: "10.0.0.1", at: t0 + 32) == nil, "run out")
                // Doubling, up to the maximum.
                #expect(try await catalog.recordConsoleSignInFailure(name: "alice", address: "10.0.0.1", rule: rule, at: t0 + 40) == t0 + 100)
                #expect(try await catalog.recordConsoleSignInFailure(name: "alice", address: "10.0.0.1", rule: rule, at: t0 + 50) == t0 + 150)
                // A success clears the pair; a long name is kept to 200 bytes, not refused.
                try await catalog.clearConsoleSignInFailures(name: "alice", address: "10.0.0.1")
                #expect(try await catalog.consoleSignInLockedUntil(name: "alice", address: "10.0.0.1", at: t0 + 60) == nil)
                #expect(try await catalog.recordConsoleSignInFailure(name: "alice", address: "10.0.0.1", rule: rule, at: t0 + 61) == nil)
                let long = String(repeating: "é", count: 300)
                for n in 0..<3 { _ = try await catalog.recordConsoleSignInFailure(name: long, address: "10.0.0.3", rule: rule, at: t0 + Double(n)) }
                #expect(try await catalog.consoleSignInLockedUntil(name: long, address: "10.0.0.3", at: t0 + 5) == t0 + 32)
                // A day later, unlocked pairs are forgotten when the next failure is counted.
                _ = try await catalog.recordConsoleSignInFailure(name: "carol", address: "10.0.0.4", rule: rule, at: t0 + 90_000)
                #expect(try await catalog.recordConsoleSignInFailure(name: "alice", address: "10.0.0.1", rule: rule, at: t0 + 90_001) == nil,
                    "counted from 1 again")
            }
        }
}
}
