import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

extension AuditStoreConformanceTests {
    /// The console's audit pages: newest first, some tenants only, a keyset cursor on the sequence.
    @Test(arguments: Backend.all)
    func latestEntriesPageBackwardsWithinTenants(_ backend: Backend) async throws {
        try await AuditFixture.run(backend) { fixture in
            let store = fixture.store
            for index in 0..<9 {
                let tenant = ["t1", "t2", "t3"][index % 3]
                _ = try await store.append(AuditEvent(actor: "test", action: .holdSet, tenantID: tenant, subjectID: "s\(index)"))
            }
            _ = try await store.append(AuditEvent(actor: "test", action: .operatorSignedIn, subjectID: "alice"))
            #expect(try await store.latestEntries(tenantIDs: nil, beforeSeq: nil, limit: 3).map(\.seq) == [10, 9, 8])
            #expect(try await store.latestEntries(tenantIDs: nil, beforeSeq: 8, limit: 3).map(\.seq) == [7, 6, 5])
            let mine = try await store.latestEntries(tenantIDs: ["t1", "t3"], beforeSeq: nil, limit: 100)
            #expect(mine.map(\.seq) == [9, 7, 6, 4, 3, 1])
            #expect(mine.allSatisfy { $0.tenantId == "t1" || $0.tenantId == "t3" })
            #expect(try await store.latestEntries(tenantIDs: ["t2"], beforeSeq: 5, limit: 1).map(\.seq) == [2])
            #expect(try await store.latestEntries(tenantIDs: [], beforeSeq: nil, limit: 10).isEmpty)
            // Forwards, for the page just newer than one shown: oldest first after a sequence number.
            #expect(try await store.earliestEntries(tenantIDs: nil, afterSeq: 7, limit: 2).map(\.seq) == [8, 9])
            #expect(try await store.earliestEntries(tenantIDs: ["t1", "t3"], afterSeq: 3, limit: 100).map(\.seq) == [4, 6, 7, 9])
            #expect(try await store.earliestEntries(tenantIDs: nil, afterSeq: 10, limit: 5).isEmpty)
            #expect(try await store.earliestEntries(tenantIDs: [], afterSeq: 0, limit: 10).isEmpty)
        }
    }
}
