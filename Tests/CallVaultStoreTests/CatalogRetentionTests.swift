import CallVaultModel
import Foundation
import GRDB
import Testing

@testable import CallVaultStore

@Suite struct CatalogRetentionTests {
    @Test func heldRecordingsAreNeverExpiredAndShreddingIsAuditedOnce() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let tenant = try catalog.addTenant(name: "a", policy: TenantPolicy(voiceDays: 1)).tenant
        let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA1")
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let caller = try catalog.createRecording(
            callID: call.id,
            track: .caller,
            codec: .g711u,
            sampleRate: 8000,
            path: "c.cvr",
            createdAt: start
        )
        let bot = try catalog.createRecording(
            callID: call.id,
            track: .bot,
            codec: .g711u,
            sampleRate: 8000,
            path: "b.cvr",
            createdAt: start
        )

        #expect(try catalog.expiredRecordings(asOf: start.addingTimeInterval(86_399)).isEmpty)
        let dayLater = start.addingTimeInterval(86_400)
        #expect(Set(try catalog.expiredRecordings(asOf: dayLater).map(\.id)) == [caller.id, bot.id])

        let held = try catalog.setHold(recordingID: bot.id, held: true, reason: "case 42")
        #expect(held.hold)
        #expect(try catalog.expiredRecordings(asOf: dayLater).map(\.id) == [caller.id])
        #expect(throws: CatalogError.self) { try catalog.markRecordingShredded(id: bot.id) }

        try catalog.markRecordingShredded(id: caller.id, at: dayLater)
        let shredded = try catalog.recording(id: caller.id)
        #expect(shredded.state == .shredded)
        #expect(shredded.shreddedAt == dayLater)
        #expect(try catalog.expiredRecordings(asOf: dayLater).isEmpty)
        let again = #expect(throws: CatalogError.self) { try catalog.markRecordingShredded(id: caller.id) }
        #expect(again?.message.contains("already shredded") == true)

        try catalog.setHold(recordingID: bot.id, held: false)
        #expect(try catalog.expiredRecordings(asOf: dayLater).map(\.id) == [bot.id])
        let actions = try catalog.auditLog.entries(tenantID: tenant.id).map(\.action)
        #expect(actions.filter { $0 == .recordingShredded }.count == 1)
        #expect(actions.suffix(3) == [.holdSet, .recordingShredded, .holdCleared])
        #expect(try catalog.auditLog.verify().isIntact)
    }

    @Test func anOpenPausedSpanIsClosedOnce() throws {
        let directory = try CatalogTestDirectory()
        defer { directory.remove() }
        let catalog = try Catalog(directory: directory.path)
        let tenant = try catalog.addTenant(name: "a").tenant
        let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA1")
        let span = try catalog.addPausedSpan(callID: call.id, startMs: 4000)
        let id = try #require(span.id)
        #expect(throws: CatalogError.self) { try catalog.closePausedSpan(id: id, endMs: 3999) }
        try catalog.closePausedSpan(id: id, endMs: 7000)
        #expect(try catalog.pausedSpans(callID: call.id).map(\.endMs) == [7000])
        #expect(throws: CatalogError.self) { try catalog.closePausedSpan(id: id, endMs: 8000) }
        #expect(throws: CatalogError.self) { try catalog.addPausedSpan(callID: call.id, startMs: 10, endMs: 5) }
    }
}
