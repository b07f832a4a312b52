import CallVaultArchive
import CallVaultAudio
import CallVaultCrypto
import CallVaultModel
import Foundation
import Testing

@testable import CallVaultTranscribe

@Suite("Transcription worker: queue to sealed, per-speaker transcript")
struct TranscriptionWorkerTests {
    @Test func aRecordedCallIsTranscribedPerSpeakerInTimeOrderAndSealed() async throws {
        let fixture = try TranscriptionFixture()
        let callID = try fixture.recordCall(
            caller: TranscriptionFixture.audio("caller.flac"), bot: TranscriptionFixture.audio("bot.flac"))
        #expect(try fixture.catalog.jobs(state: .queued).map(\.callId) == [callID])

        let summary = try await fixture.drain()
        #expect(summary.done == 1 && summary.jobs == 1)
        #expect(summary.audioMs > 80_000, "two tracks of ~46 s: \(summary.audioMs) ms")
        print(
            "worker, pocketsphinx, sample call: real-time factor \(String(format: "%.3f", summary.realTimeFactor)), "
                + "unseal+decode+resample \(String(format: "%.1f", summary.overheadShare * 100))% of engine time")
        #expect(try fixture.catalog.jobs(state: .done).count == 1)

        let rows = try fixture.catalog.transcripts(callID: callID)
        #expect(rows.count == 1 && rows[0].engine == "pocketsphinx")
        let row = try #require(rows.first)
        #expect(row.expiresAt.timeIntervalSince(row.createdAt) == 60 * 86_400, "the tenant's transcript retention")
        #expect(row.path.hasPrefix("transcripts/\(fixture.tenantID)/"))

        // Sealed: the file is a transcript .cvr whose bytes hold no JSON in the clear.
        let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture.directory.path + "/" + row.path)))
        #expect(Array(file.prefix(4)) == SealedFileHeader.magic)
        #expect(file[5] == SealedFileMetadata.Kind.transcript.rawValue)
        #expect(String(decoding: file, as: UTF8.self).contains("speaker") == false)

        let store = TranscriptStore(catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory)
        let (_, transcript) = try await store.open(id: row.id, actor: "test")
        #expect(transcript.callId == callID && transcript.version == 1)
        let speakers = transcript.segments.map(\.speaker)
        #expect(Set(speakers) == ["caller", "bot"])
        #expect(speakers.first == "bot", "the call opens with the bot's disclosure")
        #expect(zip(transcript.segments, transcript.segments.dropFirst()).allSatisfy { $0.startMs <= $1.startMs })
        // The tracks alternate (each is silent while the other speaks): at least 3 changes of speaker.
        #expect(zip(speakers, speakers.dropFirst()).filter { $0 != $1 }.count >= 3, "\(speakers)")
        // Each speaker's words come from their own track: the bot's lines hold the disclosure.
        let botText = transcript.segments.filter { $0.speaker == "bot" }.map(\.text).joined(separator: " ")
        #expect(botText.contains("recorded"), "bot segments: \(transcript.segments.filter { $0.speaker == "bot" }.count)")

        let actions = try fixture.catalog.auditLog.entries().map(\.action)
        #expect(actions.filter { $0 == .recordingDecrypted }.count == 2, "each track's decryption is audited")
        #expect(actions.contains(.transcriptCreated) && actions.contains(.transcriptDecrypted))
    }

    @Test func rerunningNeverMakesASecondTranscript() async throws {
        let fixture = try TranscriptionFixture()
        let callID = try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
        #expect(try await fixture.drain().done == 1)
        #expect(try await fixture.drain().jobs == 0, "nothing left")
        // The same call queued again for the same engine by name: done without a new transcript.
        try fixture.catalog.enqueueJob(callID: callID, engine: "pocketsphinx")
        let again = try await fixture.drain()
        #expect(again.done == 1 && again.audioMs == 0)
        #expect(try fixture.catalog.transcripts(callID: callID).count == 1)
    }

    @Test func aShreddedRecordingCancelsItsJobWithTheReason() async throws {
        let fixture = try TranscriptionFixture()
        let callID = try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
        let recording = try #require(try fixture.catalog.recordings(inCalls: [callID]).first)
        try fixture.keyStore.destroyDataKey(ownerID: recording.id, tenantID: fixture.tenantID)
        try fixture.catalog.markRecordingsShredded(ids: [recording.id], reason: "erased")
        let summary = try await fixture.drain()
        #expect(summary.cancelled == 1 && summary.failed == 0)
        let job = try #require(try fixture.catalog.jobs().first)
        #expect(job.state == .cancelled && job.lastError?.contains("shredded") == true)
        #expect(try await fixture.drain().jobs == 0, "a cancelled job is never retried")
    }

    @Test func aKeyDestroyedUnderARunningJobCancelsItInsteadOfLooping() async throws {
        let fixture = try TranscriptionFixture()
        let callID = try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
        let recording = try #require(try fixture.catalog.recordings(inCalls: [callID]).first)
        // The key is gone but the row not yet marked (a sweep between its steps).
        try fixture.keyStore.destroyDataKey(ownerID: recording.id, tenantID: fixture.tenantID)
        #expect(try await fixture.drain().cancelled == 1)
        #expect(try fixture.catalog.jobs().first?.state == .cancelled)
    }

    @Test func aRestrictedRecordingIsNotTranscribed() async throws {
        let fixture = try TranscriptionFixture()
        let callID = try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
        let recording = try #require(try fixture.catalog.recordings(inCalls: [callID]).first)
        try fixture.catalog.setRestricted(recordingID: recording.id, true, reason: "subject request 42")
        #expect(try await fixture.drain().cancelled == 1)
        #expect(try fixture.catalog.jobs().first?.lastError?.contains("restricted") == true)
        #expect(try fixture.catalog.transcripts(callID: callID).isEmpty)
        #expect(try !fixture.catalog.auditLog.entries().map(\.action).contains(.recordingDecrypted))
    }

    @Test func corruptAudioFailsWithAClearErrorThenGoesDeadAndOtherCallsAreTranscribed() async throws {
        let fixture = try TranscriptionFixture()
        let bad = try fixture.recordCall(caller: TranscriptionFixture.audio("disclosure.ulaw.wav"))
        let good = try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
        let recording = try #require(try fixture.catalog.recordings(inCalls: [bad]).first)
        // Flip one byte of the sealed audio: authentication must fail, not decode garbage.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: fixture.path(of: recording)))
        try handle.seek(toOffset: 400)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: 400)
        try handle.write(contentsOf: [byte ^ 0x40])
        try handle.close()

        let summary = try await fixture.drain(retry: JobRetryPolicy(maximumAttempts: 1))
        #expect(summary.done == 1 && summary.dead == 1)
        let jobs = try fixture.catalog.jobs()
        let dead = try #require(jobs.first { $0.callId == bad })
        #expect(dead.state == .dead && dead.lastError?.contains("does not verify") == true, "\(dead.lastError ?? "")")
        #expect(jobs.first { $0.callId == good }?.state == .done)
        #expect(try fixture.catalog.transcripts(callID: good).count == 1)
    }

    @Test func aJobWaitsWhileATrackIsStillBeingRecorded() async throws {
        let fixture = try TranscriptionFixture()
        let callID = try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
        // A second track opened and not finished: the call is still in progress.
        _ = try fixture.catalog.createRecording(
            id: UUID().uuidString.lowercased(), callID: callID, track: .bot, codec: .g711u, sampleRate: 8000,
            path: "recordings/x.cvr")
        let before = Date()
        let summary = try await fixture.drain()
        #expect(summary.deferred == 1 && summary.done == 0)
        let job = try #require(try fixture.catalog.jobs().first)
        // Measured from before the run: this test may resume long after it (a full run on two cores).
        #expect(job.state == .queued && job.attempts == 0 && job.runAfter >= before.addingTimeInterval(29))
    }

    @Test func aDeadWorkersJobIsFinishedByAnotherAfterItsLease() async throws {
        let fixture = try TranscriptionFixture()
        let callID = try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
        // A worker claims the job and dies without a word: while its lease runs, no one else takes it.
        let claimed = try #require(try fixture.catalog.claimJob(workerID: "dead", lease: .seconds(600)))
        #expect(try await fixture.drain().jobs == 0, "its lease still runs")
        // Its lease runs out (its last heartbeat, set in the past, was good for one second).
        #expect(try fixture.catalog.heartbeat(
            jobID: claimed.id, workerID: "dead", lease: .seconds(1), now: Date().addingTimeInterval(-10)))
        let summary = try await fixture.drain()
        #expect(summary.done == 1)
        let job = try #require(try fixture.catalog.jobs().first)
        #expect(job.id == claimed.id && job.state == .done && job.attempts == 2)
        #expect(try fixture.catalog.transcripts(callID: callID).count == 1)
        #expect(throws: CatalogError.self) { try fixture.catalog.completeJob(jobID: claimed.id, workerID: "dead") }
    }

    @Test func aMissingModelIsAClearErrorAndLosesNoJob() async throws {
        let fixture = try TranscriptionFixture()
        try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
        let missing = PocketSphinxEngine.Model(acousticModel: "/nonexistent", languageModel: "/x", dictionary: "/y")
        await #expect {
            try await fixture.drain(workers: 2) { () throws(TranscriptionError) in try PocketSphinxEngine(model: missing) }
        } throws: { error in
            (error as? TranscriptionError)?.code == .modelMissing && "\(error)".contains("/nonexistent")
        }
        #expect(try fixture.catalog.jobs(state: .queued).count == 1, "the job is untouched")
    }

    @Test func transcriptsMergeByTimeCallerFirstOnATie() {
        let word = TranscriptWord(word: "x", startMs: 0, endMs: 1, confidence: 1)
        func segment(_ start: Int) -> TranscriptSegment {
            TranscriptSegment(startMs: start, endMs: start + 500, text: "t\(start)", words: [word])
        }
        let merged = Transcript.merge([
            ("caller", [segment(1000), segment(5000)]), ("bot", [segment(0), segment(1000), segment(3000)]),
        ])
        #expect(merged.map(\.startMs) == [0, 1000, 1000, 3000, 5000])
        #expect(merged.map(\.speaker) == ["bot", "caller", "bot", "bot", "caller"])
    }
}

extension TranscriptionWorkerTests {
    @Test func aCancelledJobRetriedAfterTheRestrictionIsLiftedIsTranscribed() async throws {
        let fixture = try TranscriptionFixture()
        let callID = try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
        let recording = try #require(try fixture.catalog.recordings(inCalls: [callID]).first)
        try fixture.catalog.setRestricted(recordingID: recording.id, true, reason: "objection")
        #expect(try await fixture.drain().cancelled == 1)
        try fixture.catalog.setRestricted(recordingID: recording.id, false, reason: "objection withdrawn")
        let job = try #require(try fixture.catalog.jobs().first)
        try fixture.catalog.retryJob(jobID: job.id)
        #expect(try await fixture.drain().done == 1)
        #expect(throws: CatalogError.self) { try fixture.catalog.retryJob(jobID: job.id) }
    }
}

extension TranscriptionWorkerTests {
    @Test func eachTenantsCallsAreTranscribedInItsLanguageUnlessTheRunFixesOne() async throws {
        let fixture = try TranscriptionFixture()
        var policy = try fixture.catalog.tenant(id: fixture.tenantID).policy
        policy.transcriptLanguage = "auto"
        try fixture.catalog.updatePolicy(ofTenant: fixture.tenantID, to: policy)
        let detected = try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
        #expect(try await fixture.drain().done == 1)
        policy.transcriptLanguage = "de"
        try fixture.catalog.updatePolicy(ofTenant: fixture.tenantID, to: policy)
        let german = try fixture.recordCall(caller: TranscriptionFixture.audio("answer.ulaw.wav"))
        #expect(try await fixture.drain().done == 1)
        let store = TranscriptStore(catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory)
        func language(_ call: String) async throws -> String? {
            let row = try #require(try fixture.catalog.transcripts(callID: call).first)
            return try await store.open(id: row.id, actor: "test").transcript.language
        }
        #expect(try await language(detected) == nil, "auto: the engine detects it")
        #expect(try await language(german) == "de")

        policy.transcriptLanguage = "english"
        #expect(throws: CatalogError.self) { try fixture.catalog.updatePolicy(ofTenant: fixture.tenantID, to: policy) }
    }
}
