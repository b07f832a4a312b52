import CallVaultCrypto
import CallVaultStore
import Foundation
import Logging
import Testing

@testable import CallVaultRetention

@Suite("Subject erasure and transcript expiry")
struct SubjectErasureTests {
    let t0 = Date(timeIntervalSince1970: 1_780_000_000)
    let caller = "+44 20 7946 0000"

    @Test("erasure destroys every recording and transcript of one caller, keeps held ones and other callers'")
    func erasesOneCallerOnly() async throws {
        let fixture = try RetentionFixture(voiceDays: 90)
        let first = try fixture.record(at: t0, callID: "CA1", callerNumber: caller)
        let second = try fixture.record(at: days(1, after: t0), callID: "CA2", callerNumber: caller)
        let secondBot = try fixture.record(at: days(1, after: t0), callID: "CA2")
        let held = try fixture.record(at: days(2, after: t0), callID: "CA3", callerNumber: caller)
        let other = try fixture.record(at: t0, callID: "CA4", callerNumber: "+44 20 7946 0999")
        let transcript = try fixture.transcript(of: first, at: t0, days: 365)
        try await LegalHold(catalog: fixture.catalog, keyStore: fixture.keyStore).set(recordingID: held.id, reason: "court")

        let erasure = SubjectErasure(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory,
            logger: Logger(label: "test"))
        let receipt = try await erasure.erase(tenantID: fixture.tenantID, phoneNumber: caller, at: days(3, after: t0))

        #expect(Set(receipt.calls).count == 3)
        #expect(Set(receipt.recordingsErased) == [first.id, second.id, secondBot.id])
        #expect(receipt.transcriptsErased == [transcript.id])
        #expect(receipt.recordingsHeld == [held.id])
        #expect(receipt.failures.isEmpty)
        #expect(receipt.confirmationCode.wholeMatch(of: /ERASE-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}/) != nil)
        for erased in [first, second, secondBot] {
            #expect(!fixture.isReadable(erased))
            #expect(try fixture.catalog.recording(id: erased.id).state == .shredded)
            #expect(!FileManager.default.fileExists(atPath: fixture.directory.path + "/" + erased.path))
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.path + "/" + transcript.path))
        #expect(fixture.isReadable(held) && fixture.isReadable(other))

        // The audit log holds the code, the call ids and counts — never the phone number.
        let entries = try fixture.catalog.auditLog.entries()
        let entry = try #require(entries.last { $0.action == .subjectErased })
        #expect(entry.subjectId == receipt.confirmationCode)
        #expect(!entries.contains { $0.details.contains("7946 0000") || $0.details.contains("79460000") })
        if case .shredded(_, let reason) = try fixture.keyStore.dataKeyStatus(ownerID: first.id, tenantID: fixture.tenantID) {
            #expect(reason == .erased)
        } else {
            Issue.record("erased recording's key is not shredded")
        }
    }

    @Test("erasing a caller with no calls succeeds with an empty receipt; an unknown tenant is an error")
    func emptyAndUnknown() async throws {
        let fixture = try RetentionFixture()
        let erasure = SubjectErasure(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory,
            logger: Logger(label: "test"))
        let receipt = try await erasure.erase(tenantID: fixture.tenantID, phoneNumber: caller)
        #expect(receipt.calls.isEmpty && receipt.recordingsErased.isEmpty)
        await #expect(throws: RetentionError.self) { try await erasure.erase(tenantID: "no-such-tenant", phoneNumber: caller) }
    }

    @Test("a transcript is shredded at its own retention, independently of its recording")
    func transcriptsExpireOnTheirOwn() async throws {
        let fixture = try RetentionFixture(voiceDays: 30)
        let recording = try fixture.record(at: t0)
        let transcript = try fixture.transcript(of: recording, at: t0, days: 10)
        let early = try await fixture.sweeper.sweep(now: days(11, after: t0))
        #expect(early.transcriptsShredded == [transcript.id] && early.recordingsShredded.isEmpty)
        #expect(fixture.isReadable(recording))
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.path + "/" + transcript.path))
        if case .shredded = try fixture.keyStore.dataKeyStatus(ownerID: transcript.id, tenantID: fixture.tenantID) {
        } else {
            Issue.record("the transcript's data key survived its expiry")
        }
        let late = try await fixture.sweeper.sweep(now: days(31, after: t0))
        #expect(late.recordingsShredded == [recording.id] && late.transcriptsShredded.isEmpty)
    }
}
