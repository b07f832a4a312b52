import CallVaultArchive
import CallVaultModel
import CallVaultStore
import Foundation
import Synchronization
import Testing

@testable import CallVaultTranscribe

/// GDPR Art. 18 in transcription: the worker goes through the exporter's door and cancels a job whose
/// recording is restricted; a transcript of a restricted call opens only with an audited override.
@Suite("Transcription: a restricted recording is refused at the exporter's door")
struct TranscriptionRestrictionTests {
    /// Restricts a recording while the first track is being transcribed, as an operator acting during
    /// a long job would: the worker's own check has passed, only the exporter can still refuse.
    final class RestrictingEngine: TranscriptionEngine {
        let name = "stub"
        let catalog: Catalog
        let restrict: String?
        let calls = Mutex(0)

        init(catalog: Catalog, restrict: String?) {
            self.catalog = catalog
            self.restrict = restrict
        }

        func transcribe(_ samples: [Int16], options: TranscriptionOptions) throws(TranscriptionError)
            -> [TranscriptSegment]
        {
            let first = calls.withLock { count in
                count += 1
                return count == 1
            }
            if first, let restrict {
                do { try catalog.setRestricted(recordingID: restrict, true, reason: "subject objects mid-job") } catch {
                    throw TranscriptionError(.storeFailed, error.message)
                }
            }
            return [TranscriptSegment(startMs: 0, endMs: 1000, text: "stub", words: [])]
        }
    }

    @Test func aTrackRestrictedDuringTheJobIsRefusedByTheExporterAndTheJobIsCancelled() async throws {
        let fixture = try TranscriptionFixture()
        let callID = try fixture.recordCall(
            caller: TranscriptionFixture.audio("answer.ulaw.wav"), bot: TranscriptionFixture.audio("answer.ulaw.wav"))
        let bot = try #require(try fixture.catalog.recordings(inCalls: [callID]).first { $0.track == .bot })
        let catalog = fixture.catalog
        let summary = try await fixture.drain(
            retry: JobRetryPolicy(maximumAttempts: 5),
            makeEngine: { () throws(TranscriptionError) in RestrictingEngine(catalog: catalog, restrict: bot.id) })

        #expect(summary.cancelled == 1 && summary.failed == 0 && summary.done == 0)
        let job = try #require(try fixture.catalog.jobs().first)
        #expect(job.state == .cancelled, "cancelled, never retried")
        // The exporter's words: the worker's own pre-check had passed.
        #expect(job.lastError?.contains("recording \(bot.id) is restricted") == true, "\(job.lastError ?? "")")
        let decrypted = try fixture.catalog.auditLog.entries().filter { $0.action == .recordingDecrypted }
        #expect(decrypted.count == 1 && decrypted.first?.subjectId != bot.id, "only the caller track was decrypted")
        #expect(try !fixture.catalog.auditLog.entries().contains { $0.action == .restrictionOverridden })
        #expect(try fixture.catalog.transcripts(callID: callID).isEmpty)
    }

    @Test func aTranscriptOfARestrictedCallOpensOnlyWithAnAuditedOverride() async throws {
        let fixture = try TranscriptionFixture()
        let callID = try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
        let recording = try #require(try fixture.catalog.recordings(inCalls: [callID]).first)
        let catalog = fixture.catalog
        let summary = try await fixture.drain(makeEngine: { () throws(TranscriptionError) in
            RestrictingEngine(catalog: catalog, restrict: nil)
        })
        #expect(summary.done == 1)
        try fixture.catalog.setRestricted(recordingID: recording.id, true, reason: "subject objects (ticket 9)")
        let transcript = try #require(try fixture.catalog.transcripts(callID: callID).first)

        let store = TranscriptStore(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory)
        let refused = await #expect(throws: TranscriptionError.self) { try await store.open(id: transcript.id, actor: "test") }
        #expect(refused?.code == .restricted && refused?.message.contains(recording.id) == true)
        #expect(try !fixture.catalog.auditLog.entries().contains { $0.action == .transcriptDecrypted })

        let opened = try await store.open(
            id: transcript.id, actor: "test", restrictionOverride: RestrictionOverride(reason: "court order 12"))
        #expect(opened.transcript.callId == callID)
        let entries = try fixture.catalog.auditLog.entries()
        let override = try #require(entries.last { $0.action == .restrictionOverridden })
        let decrypted = try #require(entries.last { $0.action == .transcriptDecrypted })
        #expect(override.subjectId == recording.id && override.details.contains("court order 12"))
        #expect(override.details.contains(transcript.id) && override.seq + 1 == decrypted.seq)
    }
}
