import CallVaultModel
import CallVaultTestSupport
import Foundation
import Synchronization
import Testing

@testable import CallVaultStore

/// What a data key costs on each backend: `newDataKey` (one per recording track: the day key from
/// memory, one write transaction) and `dataKey` (a read and two unwraps), one thread, with an in-memory
/// provider so the provider's own cost is left out. Prints `measured: …`; asserts nothing (this shared
/// 2-core machine varies). Off unless `CALLVAULT_KEYSTORE_FIGURES=1`. See docs/store-postgres.md.
@Suite(
    "Key store figures",
    .enabled(
        if: ProcessInfo.processInfo.environment["CALLVAULT_KEYSTORE_FIGURES"] == "1",
        "measurements only: set CALLVAULT_KEYSTORE_FIGURES=1"),
    .serialized, .timeLimit(.minutes(15)))
struct KeyStoreFigures {
    @Test(arguments: Backend.all)
    func dataKeysPerSecond(_ backend: Backend) async throws {
        try await KeyStoreFixture.with(backend) { fixture in
            let provider = MemoryKeyProvider()
            let store = try await fixture.node(provider)
            defer { store.close() }
            let count = 2_000
            let day = try CalendarDay("2031-04-01")
            let (made, read) = try await offCooperativePool { () throws -> (Double, Double) in
                try store.createTenant("acme")
                _ = try store.newDataKey(tenantID: "acme", ownerID: "warm", kind: .voice, expiresOn: day)
                let clock = ContinuousClock()
                let making = clock.measure {
                    for index in 0..<count {
                        _ = try? store.newDataKey(
                            tenantID: "acme", ownerID: "r\(index)", kind: .voice, expiresOn: day,
                            providerRoundTrip: .forbidden)
                    }
                }
                let reading = clock.measure {
                    for index in 0..<count { _ = try? store.dataKey(ownerID: "r\(index)", tenantID: "acme") }
                }
                func perSecond(_ duration: Duration) -> Double {
                    Double(count) / (Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
                }
                return (perSecond(making), perSecond(reading))
            }
            #expect(try await offCooperativePool { try store.dayKeyCount(tenantID: "acme") } == 1)
            print("measured: \(backend) newDataKey \(Int(made))/s, dataKey \(Int(read))/s (\(count) each, one thread)")
        }
    }

    /// `newDataKey` from 8 threads at once (a server's call queues making keys for many recordings), day
    /// key ready in memory: on PostgreSQL these take the key-store lock shared (`writeAdding`).
    @Test(arguments: Backend.all)
    func dataKeysPerSecondFromEightThreads(_ backend: Backend) async throws {
        try await KeyStoreFixture.with(backend) { fixture in
            let provider = MemoryKeyProvider()
            let store = try await fixture.node(provider)
            defer { store.close() }
            let perThread = 250
            let day = try CalendarDay("2031-04-01")
            let (made, failures) = try await offCooperativePool { () throws -> (Double, Int) in
                try store.createTenant("acme")
                _ = try store.newDataKey(tenantID: "acme", ownerID: "warm", kind: .voice, expiresOn: day)
                let failed = Mutex(0)
                let started = ContinuousClock.now
                DispatchQueue.concurrentPerform(iterations: 8) { thread in
                    for index in 0..<perThread {
                        do {
                            _ = try store.newDataKey(
                                tenantID: "acme", ownerID: "t\(thread)-\(index)", kind: .voice, expiresOn: day,
                                providerRoundTrip: .forbidden)
                        } catch {
                            failed.withLock { $0 += 1 }
                        }
                    }
                }
                let elapsed = ContinuousClock.now - started
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                return (Double(8 * perThread) / seconds, failed.withLock { $0 })
            }
            #expect(failures == 0)
            print("measured: \(backend) newDataKey from 8 threads \(Int(made))/s (\(8 * perThread) keys)")
        }
    }
}
