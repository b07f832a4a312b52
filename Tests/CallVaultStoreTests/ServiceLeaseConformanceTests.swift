import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// The service leases behind `callvault sweep`'s "one sweeper at a time", the same on SQLite and
/// PostgreSQL: each test runs on both, with two nodes (SQLite: two catalogs on one file; PostgreSQL: two
/// catalogs with pools of their own on one database) reached through ``serviceLeases(for:)``.
@Suite("Service lease conformance (SQLite and PostgreSQL)", .timeLimit(.minutes(15)))
struct ServiceLeaseConformanceTests {
    /// The leases of the fixture's catalog and of a second node on the same store, closed after `body`.
    static func withTwoNodes(
        _ backend: Backend, _ body: (any ServiceLeases, any ServiceLeases) async throws -> Void
    ) async throws {
        try await CatalogFixture.with(backend) { fixture in
            switch fixture.catalog {
            case let catalog as Catalog:
                try await body(serviceLeases(for: catalog), serviceLeases(for: try Catalog(path: catalog.path)))
            case let catalog as PostgresCatalog:
                let other = try await PostgresCatalog.open(catalog.settings, logger: PostgresServer.quietLogger)
                do {
                    try await body(serviceLeases(for: catalog), serviceLeases(for: other))
                } catch {
                    await other.close()
                    throw error
                }
                await other.close()
            default:
                Issue.record("unexpected catalog \(type(of: fixture.catalog))")
            }
        }
    }

    @Test(arguments: Backend.all)
    func ofEightHoldersStartedTogetherOnTwoNodesExactlyOneGetsTheLease(_ backend: Backend) async throws {
        try await Self.withTwoNodes(backend) { first, second in
            let holders = (0..<8).map { "sweep-\($0)" }
            let won = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
                for (index, holder) in holders.enumerated() {
                    let leases = index.isMultiple(of: 2) ? first : second
                    group.addTask { (holder, try await leases.acquire(name: "sweeper", holder: holder, for: .seconds(60))) }
                }
                var won: [String] = []
                for try await (holder, acquired) in group where acquired { won.append(holder) }
                return won
            }
            #expect(won.count == 1, "holders that got the lease: \(won)")
            let current = try #require(try await second.current(name: "sweeper"))
            #expect(current.holder == won.first && current.name == "sweeper")
            #expect(current.expiresAt > current.acquiredAt.addingTimeInterval(50))

            // The holder asking again extends it (keeping when it was taken); the others still cannot.
            #expect(try await first.acquire(name: "sweeper", holder: current.holder, for: .seconds(120)))
            let extended = try #require(try await first.current(name: "sweeper"))
            #expect(extended.acquiredAt == current.acquiredAt && extended.expiresAt > current.expiresAt)
            for holder in holders where holder != current.holder {
                #expect(try await second.acquire(name: "sweeper", holder: holder, for: .seconds(60)) == false)
            }
            // Another lease name is another lease.
            #expect(try await second.acquire(name: "archiver", holder: "sweep-x", for: .seconds(60)))
        }
    }

    @Test(arguments: Backend.all)
    func onlyTheHolderRenewsOrReleasesAndAReleasedLeaseIsFreeAtOnce(_ backend: Backend) async throws {
        try await Self.withTwoNodes(backend) { first, second in
            #expect(try await first.current(name: "sweeper") == nil)
            #expect(try await first.renew(name: "sweeper", holder: "a", for: .seconds(60)) == false, "never taken")
            #expect(try await first.acquire(name: "sweeper", holder: "a", for: .seconds(60)))
            #expect(try await second.renew(name: "sweeper", holder: "b", for: .seconds(60)) == false)
            #expect(try await first.renew(name: "sweeper", holder: "a", for: .seconds(60)))
            try await second.release(name: "sweeper", holder: "b")
            #expect(try await second.current(name: "sweeper")?.holder == "a", "a non-holder's release changes nothing")
            try await first.release(name: "sweeper", holder: "a")
            #expect(try await second.current(name: "sweeper") == nil)
            #expect(try await first.renew(name: "sweeper", holder: "a", for: .seconds(60)) == false, "released")
            #expect(try await second.acquire(name: "sweeper", holder: "b", for: .seconds(60)))
            #expect(try await first.current(name: "sweeper")?.holder == "b")
        }
    }

    @Test(arguments: Backend.all)
    func aHolderThatStopsRenewingLosesTheLeaseAtExpiryToAnother(_ backend: Backend) async throws {
        try await Self.withTwoNodes(backend) { first, second in
            let asked = ContinuousClock.now
            #expect(try await first.acquire(name: "sweeper", holder: "a", for: .seconds(1)))
            // "a" stops renewing (killed, paused): "b", asking every 100 ms, gets it once it has run out (not
            // before: checked below; a first ask delayed past the second by a loaded machine may win at once).
            var taken = try await second.acquire(name: "sweeper", holder: "b", for: .seconds(60))
            while !taken && ContinuousClock.now - asked < .seconds(300) {
                taken = try await second.acquire(name: "sweeper", holder: "b", for: .seconds(60))
                if !taken { try await Task.sleep(for: .milliseconds(100)) }
            }
            let waited = ContinuousClock.now - asked
            #expect(taken, "the lease never ran out")
            #expect(waited >= .milliseconds(950), "taken over after \(waited), before the 1 s lease ran out")
            let current = try #require(try await first.current(name: "sweeper"))
            #expect(current.holder == "b")
            // "a" comes back: its renewal is refused (it must stop acting), and it cannot take it back.
            #expect(try await first.renew(name: "sweeper", holder: "a", for: .seconds(60)) == false)
            #expect(try await first.acquire(name: "sweeper", holder: "a", for: .seconds(60)) == false)
            // An expired lease is also refused to its own holder's renewal, even when no one took it.
            #expect(try await first.acquire(name: "other", holder: "a", for: .milliseconds(300)))
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await first.current(name: "other") == nil)
            #expect(try await first.renew(name: "other", holder: "a", for: .seconds(60)) == false)
            #expect(try await first.acquire(name: "other", holder: "a", for: .seconds(60)), "taken again as new")
        }
    }

    @Test(arguments: Backend.all)
    func malformedArgumentsAreRefusedAlike(_ backend: Backend) async throws {
        try await Self.withTwoNodes(backend) { leases, _ in
            for (name, holder, duration) in [
                ("", "a", Duration.seconds(1)), (String(repeating: "n", count: 101), "a", .seconds(1)),
                ("sweeper", "", .seconds(1)), ("sweeper", String(repeating: "h", count: 201), .seconds(1)),
                ("sweeper", "a", .zero),
            ] {
                do {
                    _ = try await leases.acquire(name: name, holder: holder, for: duration)
                    Issue.record("acquire(\(name.prefix(5)), \(holder.prefix(5)), \(duration)) was accepted")
                } catch let error as ServiceLeaseError {
                    #expect(error.code == .invalidArgument, "\(error)")
                }
            }
            #expect(try await leases.current(name: "sweeper") == nil)
        }
    }

    @Test func aCatalogOfAnotherKindHasNoLeasesAndSaysSo() async throws {
        // What serviceLeases(for:) gives a catalog type it does not know (a test double).
        let leases = UnsupportedServiceLeases(location: "memory://test", type: "MemoryCatalog")
        do throws(ServiceLeaseError) {
            _ = try await leases.acquire(name: "sweeper", holder: "a", for: .seconds(1))
            Issue.record("a lease was taken on a catalog that keeps none")
        } catch {
            #expect(error.code == .unsupported && error.message.contains("memory://test"), "\(error)")
        }
    }
}
