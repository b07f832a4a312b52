import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// Recordings, paused spans, restriction, completion with its job and start-up recovery through
/// ``CatalogStore``, the same on SQLite and PostgreSQL.
extension CatalogConformance {
    @Suite("Catalog conformance: recordings and recovery (SQLite and PostgreSQL)")
    struct CatalogRecordingConformanceTests {
        @Test(arguments: Backend.all)
        func aSensitiveWindowOpensOnceClosesNotBeforeItsStartAndIsAudited(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant("windows")
                let call = try await fixture.call(of: tenant)
                let at = Date(timeIntervalSince1970: 1_800_000_000)
                #expect(try await catalog.closeSensitiveWindow(callID: call.id, atMs: 10, source: .api, actor: "t", at: at) == nil)
                let opened = try await catalog.openSensitiveWindow(callID: call.id, atMs: 1_000, source: .api, actor: "t", at: at)
                #expect(opened.startMs == 1_000 && opened.endMs == nil && opened.source == .api)
                let again = try await catalog.openSensitiveWindow(callID: call.id, atMs: 1_500, source: .mark, actor: "t", at: at)
                #expect(again == opened, "a second start changes nothing")
                let closed = try await catalog.closeSensitiveWindow(callID: call.id, atMs: 900, source: .mark, actor: "t", at: at)
                #expect(closed?.endMs == 1_000, "never closed before its start")
                _ = try await catalog.openSensitiveWindow(callID: call.id, atMs: 4_000, source: .mark, actor: "t", at: at)
                let windows = try await catalog.sensitiveWindows(callID: call.id)
                #expect(windows.map(\.startMs) == [1_000, 4_000] && windows.map(\.endMs) == [1_000, nil])
                let unknown = await catalogError {
                    try await catalog.openSensitiveWindow(callID: "no-such", atMs: 0, source: .api, actor: "t", at: at)
                }
                #expect(unknown?.code == .notFound)
            }
        }

        @Test(arguments: Backend.all)
        func aRedactedCopyTakesItsOriginalsPlaceAndItsCheckIsAudited(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant("redacting", policy: TenantPolicy(voiceDays: 7))
                let call = try await fixture.call(of: tenant)
                let created = Date(timeIntervalSince1970: 1_800_000_000)
                let original = try await fixture.recording(of: call, createdAt: created)
                let redaction = RecordingRedaction(
                    detectorVersion: "callvault-redaction-1", paddingMs: 250,
                    spans: [.init(startMs: 750, endMs: 2_950, kinds: ["cardNumber", "securityCode"])])
                let open = await catalogError {
                    try await catalog.createRedactedRecording(
                        originalID: original.id, id: "copy-0", path: "c0.cvr", storage: nil, redaction: redaction)
                }
                #expect(open?.code == .invalidArgument, "an open recording was copied")
                try await catalog.finishRecording(id: original.id, state: .complete, durationMs: 6_000, bytes: 900)
                let copy = try await catalog.createRedactedRecording(
                    originalID: original.id, id: "copy-1", path: "c1.cvr", storage: nil, redaction: redaction)
                #expect(copy.redactedFrom == original.id && copy.redaction == redaction && copy.state == .recording)
                #expect(copy.expiresAt == original.expiresAt && copy.createdAt == original.createdAt)
                #expect(try await catalog.recording(id: "copy-1", tenantID: tenant.id) == copy, "reads back equal")
                let pending = await catalogError {
                    try await catalog.createRedactedRecording(
                        originalID: "copy-1", id: "copy-2", path: "c2.cvr", storage: nil, redaction: redaction)
                }
                #expect(pending?.code == .invalidArgument, "a pending copy was copied")
                try await catalog.finishRecording(id: "copy-1", state: .complete, durationMs: 6_000, bytes: 880)
                let passed = try await catalog.recordRedactionVerification(
                    copyID: "copy-1", passed: true, actor: "test", details: ["spans": "1"], at: created)
                #expect(passed.action == .recordingRedacted && passed.subjectId == "copy-1")
                #expect(passed.details.contains(original.id))
                #expect(try await catalog.recording(id: "copy-1", tenantID: nil).redaction?.verification == .passed)

                // A failed check restricts the original.
                let second = try await catalog.createRedactedRecording(
                    originalID: "copy-1", id: "copy-3", path: "c3.cvr", storage: nil, redaction: redaction)
                #expect(second.redactedFrom == "copy-1")
                let failed = try await catalog.recordRedactionVerification(
                    copyID: "copy-3", passed: false, actor: "test", details: [:], at: created)
                #expect(failed.action == .recordingRedactionFailed && failed.subjectId == "copy-1")
                #expect(try await catalog.recording(id: "copy-1", tenantID: nil).restricted)
                #expect(try await catalog.recording(id: "copy-3", tenantID: nil).redaction?.verification == .failed)
                let unknown = await catalogError {
                    try await catalog.recordRedactionVerification(
                        copyID: original.id, passed: true, actor: "test", details: [:], at: created)
                }
                #expect(unknown?.code == .notFound, "a recording that is no copy was verified")
            }
        }

        @Test(arguments: Backend.all)
        func aRecordingExpiresAfterItsTenantsVoiceDaysAndReadsBackEqual(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant("short", policy: TenantPolicy(voiceDays: 7))
                let other = try await fixture.tenant("other")
                let call = try await fixture.call(of: tenant)
                let created = Date(timeIntervalSince1970: 1_800_000_000)
                let recording = try await fixture.recording(of: call, createdAt: created)
                #expect(recording.expiresAt == created.addingTimeInterval(7 * 86_400))
                #expect(recording.tenantId == tenant.id && recording.callId == call.id && recording.state == .recording)
                #expect(recording.durationMs == 0 && recording.bytes == 0 && !recording.hold && !recording.restricted)
                #expect(try await catalog.recording(id: recording.id, tenantID: nil) == recording)
                #expect(try await catalog.recording(id: recording.id, tenantID: tenant.id) == recording)
                // A time with more than milliseconds comes back as it was returned, and a chosen id is kept.
                let fine = try await catalog.createRecording(
                    id: "bot-1", callID: call.id, track: .bot, codec: .opus, sampleRate: 48_000, path: "b.cvr",
                    createdAt: Date(timeIntervalSince1970: 1_800_000_000.123_4), node: "node.k3x9", storage: nil)
                #expect(fine.id == "bot-1" && fine.node == "node.k3x9" && recording.node == nil)
                #expect(try await catalog.recording(id: "bot-1", tenantID: nil) == fine)
                #expect(try await catalog.recordingsLeftOpen().first { $0.id == "bot-1" }?.node == "node.k3x9", "the owner is listed")

                let anotherTenant = await catalogError { try await catalog.recording(id: recording.id, tenantID: other.id) }
                #expect(anotherTenant?.code == .notFound, "another tenant read the recording")
                let unknown = await catalogError { try await catalog.recording(id: "no-such", tenantID: nil) }
                #expect(unknown?.code == .notFound)
                let native = await catalogError {
                    try await catalog.createRecording(
                        id: nil, callID: call.id, track: .bot, codec: .native, sampleRate: 8000, path: "n.cvr",
                        createdAt: Date(), node: nil, storage: nil)
                }
                #expect(native?.code == .invalidArgument, "\(String(describing: native))")
                let noRate = await catalogError {
                    try await catalog.createRecording(
                        id: nil, callID: call.id, track: .bot, codec: .g711u, sampleRate: 0, path: "z.cvr", createdAt: Date(),
                        node: nil, storage: nil)
                }
                #expect(noRate?.code == .invalidArgument)
                let noCall = await catalogError {
                    try await catalog.createRecording(
                        id: nil, callID: "no-such", track: .bot, codec: .g711u, sampleRate: 8000, path: "x.cvr",
                        createdAt: Date(), node: nil, storage: nil)
                }
                #expect(noCall?.code == .notFound, "\(String(describing: noCall))")
                #expect(Set(try await catalog.recordingSummaries(callID: nil, tenantID: nil).map(\.id)) == [recording.id, "bot-1"])
            }
        }

        @Test(arguments: Backend.all)
        func progressOfManyRecordingsGoesInOneCallAndSkipsFinishedOnes(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                var open: [RecordingRecord] = []
                for _ in 0..<3 {
                    let call = try await fixture.call(of: tenant)
                    open.append(
                        try await fixture.recording(of: call))
                }
                try await catalog.finishRecording(id: open[1].id, state: .complete, durationMs: 5000, bytes: 40_000)
                var updates = open.enumerated().map { index, recording in
                    RecordingProgress(
                        recordingID: recording.id, durationMs: Int64(1000 * (index + 1)), bytes: Int64(8000 * (index + 1)))
                }
                // A later report of the same recording in the same batch wins; an unknown id is reported back.
                updates.append(RecordingProgress(recordingID: open[2].id, durationMs: 3500, bytes: 28_000))
                updates.append(RecordingProgress(recordingID: "no-such", durationMs: 1, bytes: 1))
                let finished = try await catalog.updateRecordingProgress(updates)
                #expect(finished == [open[1].id, "no-such"])
                let first = try await catalog.recording(id: open[0].id, tenantID: nil)
                #expect(first.durationMs == 1000 && first.bytes == 8000 && first.state == .recording)
                let third = try await catalog.recording(id: open[2].id, tenantID: nil)
                #expect(third.durationMs == 3500 && third.bytes == 28_000)
                // A finished recording keeps its final figures.
                let done = try await catalog.recording(id: open[1].id, tenantID: nil)
                #expect(done.durationMs == 5000 && done.bytes == 40_000 && done.state == .complete)
                #expect(try await catalog.updateRecordingProgress([]).isEmpty)
            }
        }

        @Test(arguments: Backend.all)
        func aRecordingFinishesOnceAndOnlyAsCompleteOrInterrupted(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let call = try await fixture.call(of: try await fixture.tenant())
                let recording = try await fixture.recording(of: call)
                for state in [RecordingState.recording, .shredded] {
                    let error = await catalogError {
                        try await catalog.finishRecording(id: recording.id, state: state, durationMs: 1, bytes: 1)
                    }
                    #expect(error?.code == .invalidArgument, "finished as \(state)")
                }
                #expect(try await catalog.recording(id: recording.id, tenantID: nil) == recording, "a refusal changed it")
                #expect(try await catalog.recordingsLeftOpen().map(\.id) == [recording.id])
                try await catalog.finishRecording(id: recording.id, state: .interrupted, durationMs: 2000, bytes: 16_200)
                let stored = try await catalog.recording(id: recording.id, tenantID: nil)
                #expect(stored.state == .interrupted && stored.durationMs == 2000 && stored.bytes == 16_200)
                #expect(try await catalog.recordingsLeftOpen().isEmpty)
                let again = await catalogError {
                    try await catalog.finishRecording(id: recording.id, state: .complete, durationMs: 0, bytes: 0)
                }
                #expect(again?.code == .notFound, "\(String(describing: again))")
                #expect(try await catalog.recording(id: recording.id, tenantID: nil) == stored)
                let unknown = await catalogError {
                    try await catalog.finishRecording(id: "no-such", state: .complete, durationMs: 0, bytes: 0)
                }
                #expect(unknown?.code == .notFound)
                // Finishing queues nothing: only completion does.
                #expect(try await catalog.queue.jobs(state: nil).isEmpty)
            }
        }

        @Test(arguments: Backend.all)
        func completingARecordingQueuesItsCallsJobOncePerCallAndEngine(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                let caller = try await fixture.recording(of: call)
                let bot = try await fixture.recording(of: call, .bot)

                for engine in ["", String(repeating: "e", count: 101)] {
                    let error = await catalogError {
                        try await catalog.completeRecording(
                            id: caller.id, durationMs: 1000, bytes: 8000, transcriptionEngine: engine, at: Date())
                    }
                    #expect(error?.code == .invalidArgument, "engine of \(engine.utf8.count) bytes")
                }
                #expect(try await catalog.recording(id: caller.id, tenantID: nil).state == .recording, "a refusal closed it")
                #expect(try await catalog.queue.jobs(state: nil).isEmpty, "a refusal queued a job")

                let job = try await catalog.completeRecording(
                    id: caller.id, durationMs: 3000, bytes: 24_000, transcriptionEngine: "whisper", at: Date())
                #expect(job.callId == call.id && job.recordingId == caller.id && job.tenantId == tenant.id)
                #expect(job.engine == "whisper" && job.state == .queued && job.attempts == 0)
                let completed = try await catalog.recording(id: caller.id, tenantID: nil)
                #expect(completed.state == .complete && completed.durationMs == 3000 && completed.bytes == 24_000)
                #expect(try await catalog.queue.jobs(state: .queued) == [job])

                // The call's other track: the same job. The same track again: refused, nothing changes.
                let second = try await catalog.completeRecording(
                    id: bot.id, durationMs: 3000, bytes: 24_000, transcriptionEngine: "whisper", at: Date())
                #expect(second == job)
                let twice = await catalogError {
                    try await catalog.completeRecording(
                        id: caller.id, durationMs: 1, bytes: 1, transcriptionEngine: "whisper", at: Date())
                }
                #expect(twice?.code == .notFound, "\(String(describing: twice))")
                #expect(try await catalog.recording(id: caller.id, tenantID: nil) == completed)
                #expect(try await catalog.queue.jobs(state: nil) == [job])
                let unknown = await catalogError {
                    try await catalog.completeRecording(
                        id: "no-such", durationMs: 1, bytes: 1, transcriptionEngine: "whisper", at: Date())
                }
                #expect(unknown?.code == .notFound)

                // Done and archived (PostgreSQL moves it to job_archive; SQLite keeps it): still once.
                let lease = try #require(
                    try await catalog.queue.claim(workerID: "w", engines: nil, limit: 1, lease: .seconds(60)).first)
                try await catalog.queue.complete(JobLease(jobID: lease.id, workerID: "w", attempt: lease.attempts))
                _ = try await catalog.queue.archiveFinishedJobs(olderThan: .zero, limit: 10)
                let late = try await fixture.recording(of: call)
                let archived = try await catalog.completeRecording(
                    id: late.id, durationMs: 10, bytes: 80, transcriptionEngine: "whisper", at: Date())
                #expect(archived.id == job.id && archived.state == .done)
                #expect(try await catalog.queue.jobs(state: nil).map(\.id) == [job.id])
                // Another engine is another job.
                let other = try await fixture.recording(of: call, .bot)
                let http = try await catalog.completeRecording(
                    id: other.id, durationMs: 10, bytes: 80, transcriptionEngine: "http", at: Date())
                #expect(http.id != job.id && http.engine == "http")
                #expect(try await catalog.queue.jobs(state: .queued) == [http])
            }
        }

        @Test(arguments: [Backend.postgres].filter(Backend.all.contains))
        func completionWakesAWaitingWorkerOnPostgreSQL(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = try #require(fixture.catalog as? PostgresCatalog)
                let call = try await fixture.call(of: try await fixture.tenant())
                let recording = try await fixture.recording(of: call)
                // The first wait starts listening; it ends without work.
                #expect(try await catalog.queue.waitForWork(timeout: .milliseconds(200)) == false)
                _ = try await catalog.completeRecording(
                    id: recording.id, durationMs: 10, bytes: 80, transcriptionEngine: "whisper", at: Date())
                let waited = ContinuousClock.now
                #expect(try await catalog.queue.waitForWork(timeout: .seconds(20)))
                #expect(ContinuousClock.now - waited < .seconds(10), "the completion's notification ended the wait")
            }
        }

        @Test(arguments: Backend.all)
        func recoveryClosesARecordingOnceAuditedAndQueuesItsJobOnce(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                let older = try await fixture.recording(of: call, createdAt: Date(timeIntervalSince1970: 1_800_000_000))
                let newer = try await fixture.recording(of: call, .bot, createdAt: Date(timeIntervalSince1970: 1_800_000_060))
                #expect(try await catalog.recordingsLeftOpen() == [older, newer])
                let before = try await catalog.audit.entries().count

                let badState = await catalogError {
                    try await catalog.closeRecoveredRecording(
                        id: older.id, state: .recording, durationMs: 1, bytes: 1, actor: "recovery", details: [:],
                        transcriptionEngine: "whisper", at: Date())
                }
                #expect(badState?.code == .invalidArgument)
                let badEngine = await catalogError {
                    try await catalog.closeRecoveredRecording(
                        id: older.id, state: .complete, durationMs: 1, bytes: 1, actor: "recovery", details: [:],
                        transcriptionEngine: "", at: Date())
                }
                #expect(badEngine?.code == .invalidArgument)
                #expect(try await catalog.recordingsLeftOpen() == [older, newer], "a refusal closed a recording")
                #expect(try await catalog.audit.entries().count == before, "a refusal was audited")

                let entry = try await catalog.markRecordingInterrupted(
                    id: older.id, durationMs: 1500, bytes: 12_000, actor: "recovery", details: ["segments": "2"], at: Date())
                #expect(entry.action == .recordingRecovered && entry.subjectId == older.id && entry.tenantId == tenant.id)
                for field in ["\"segments\":\"2\"", "\"state\":\"interrupted\"", "\"durationMs\":\"1500\"", "\"bytes\":\"12000\""] {
                    #expect(entry.details.contains(field), "\(entry.details)")
                }
                let interrupted = try await catalog.recording(id: older.id, tenantID: nil)
                #expect(interrupted.state == .interrupted && interrupted.durationMs == 1500 && interrupted.bytes == 12_000)
                #expect(try await catalog.queue.jobs(state: nil).isEmpty, "marking interrupted queues nothing")
                let again = await catalogError {
                    try await catalog.markRecordingInterrupted(
                        id: older.id, durationMs: 1, bytes: 1, actor: "recovery", details: [:], at: Date())
                }
                #expect(again?.code == .notFound)
                #expect(try await catalog.recording(id: older.id, tenantID: nil) == interrupted)

                let (closing, job) = try await catalog.closeRecoveredRecording(
                    id: newer.id, state: .complete, durationMs: 3000, bytes: 24_000, actor: "recovery", details: [:],
                    transcriptionEngine: "whisper", at: Date())
                #expect(closing.details.contains("\"state\":\"complete\""))
                let queued = try #require(job)
                #expect(queued.callId == call.id && queued.recordingId == newer.id && queued.engine == "whisper")
                #expect(try await catalog.queue.jobs(state: nil) == [queued])
                #expect(try await catalog.recordingsLeftOpen().isEmpty)

                // A third track closed by recovery with the same engine finds the job already queued.
                let third = try await fixture.recording(of: call)
                let (_, same) = try await catalog.closeRecoveredRecording(
                    id: third.id, state: .interrupted, durationMs: 10, bytes: 80, actor: "recovery", details: [:],
                    transcriptionEngine: "whisper", at: Date())
                #expect(same == queued)
                #expect(try await catalog.queue.jobs(state: nil).count == 1)

                let recovered = try await catalog.audit.entries().filter { $0.action == .recordingRecovered }
                #expect(recovered.map(\.subjectId) == [older.id, newer.id, third.id])
                #expect(try await catalog.audit.verify().isIntact)
            }
        }

        @Test(arguments: Backend.all)
        func missingJobsAreQueuedOnceForCallsWithAudioAndAudited(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                func recording(_ state: RecordingState, durationMs: Int64) async throws -> RecordingRecord {
                    let call = try await fixture.call(of: tenant)
                    let recording = try await fixture.recording(of: call)
                    if state != .recording {
                        try await catalog.finishRecording(id: recording.id, state: state, durationMs: durationMs, bytes: 8)
                    }
                    return recording
                }
                // What an older build left: closed recordings with audio and no job (two transactions then).
                let complete = try await recording(.complete, durationMs: 1000)
                let interrupted = try await recording(.interrupted, durationMs: 500)
                let silent = try await recording(.interrupted, durationMs: 0)
                let open = try await recording(.recording, durationMs: 0)
                let shredded = try await recording(.complete, durationMs: 1000)
                try await catalog.markRecordingShredded(id: shredded.id, actor: "sweeper", at: Date())
                // A call whose job was done and archived has a job.
                let archivedRecording = try await recording(.recording, durationMs: 0)
                _ = try await catalog.completeRecording(
                    id: archivedRecording.id, durationMs: 10, bytes: 80, transcriptionEngine: "whisper", at: Date())
                let lease = try #require(
                    try await catalog.queue.claim(workerID: "w", engines: nil, limit: 1, lease: .seconds(60)).first)
                try await catalog.queue.complete(JobLease(jobID: lease.id, workerID: "w", attempt: lease.attempts))
                _ = try await catalog.queue.archiveFinishedJobs(olderThan: .zero, limit: 10)

                let queued = try await catalog.queueMissingTranscriptionJobs(engine: "whisper", at: Date())
                #expect(Set(queued) == [complete.callId, interrupted.callId], "\(queued), not \(silent.callId), \(open.callId)")
                let jobs = try await catalog.queue.jobs(state: .queued)
                #expect(Set(jobs.map(\.callId)) == [complete.callId, interrupted.callId])
                #expect(Set(jobs.compactMap(\.recordingId)) == [complete.id, interrupted.id])
                #expect(jobs.allSatisfy { $0.tenantId == tenant.id && $0.engine == "whisper" })
                let repaired = try await catalog.audit.entries().filter { $0.action == .jobRepaired }
                #expect(Set(repaired.compactMap(\.subjectId)) == Set(queued) && repaired.count == 2)
                #expect(repaired.allSatisfy { $0.actor == "recovery" && $0.tenantId == tenant.id })
                #expect(repaired.allSatisfy { $0.details.contains("\"engine\":\"whisper\"") })
                #expect(repaired.contains { $0.details.contains("\"recording\":\"\(complete.id)\"") })

                // Idempotent: nothing left to repair, with any engine.
                #expect(try await catalog.queueMissingTranscriptionJobs(engine: "http", at: Date()).isEmpty)
                #expect(try await catalog.queue.jobs(state: nil).count == 3)
                #expect(try await catalog.audit.entries().filter { $0.action == .jobRepaired }.count == 2)
                #expect(try await catalog.audit.verify().isIntact)
            }
        }

        @Test(arguments: Backend.all)
        func aBadEngineRepairsNothing(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let call = try await fixture.call(of: try await fixture.tenant())
                let recording = try await fixture.recording(of: call)
                try await catalog.finishRecording(id: recording.id, state: .complete, durationMs: 1000, bytes: 8000)
                let error = await catalogError { try await catalog.queueMissingTranscriptionJobs(engine: "", at: Date()) }
                #expect(error?.code == .invalidArgument)
                #expect(try await catalog.queue.jobs(state: nil).isEmpty)
                #expect(try await catalog.audit.entries().filter { $0.action == .jobRepaired }.isEmpty)
                #expect(try await catalog.queueMissingTranscriptionJobs(engine: "whisper", at: Date()) == [call.id])
            }
        }

        @Test(arguments: Backend.all)
        func anOpenPausedSpanIsClosedOnceAndSpansListInTimelineOrder(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let call = try await fixture.call(of: try await fixture.tenant())
                let recording = try await fixture.recording(of: call)
                let later = try await catalog.addPausedSpan(callID: call.id, recordingID: recording.id, startMs: 9000, endMs: 9500)
                let open = try await catalog.addPausedSpan(callID: call.id, recordingID: nil, startMs: 4000, endMs: nil)
                let id = try #require(open.id)
                #expect(later.id != nil && later.id != open.id && later.recordingId == recording.id)
                #expect(try await catalog.pausedSpans(callID: call.id) == [open, later])

                let early = await catalogError { try await catalog.closePausedSpan(id: id, endMs: 3999) }
                #expect(early?.code == .invalidArgument)
                #expect(try await catalog.pausedSpans(callID: call.id) == [open, later], "a refusal closed it")
                try await catalog.closePausedSpan(id: id, endMs: 7000)
                var closed = open
                closed.endMs = 7000
                #expect(try await catalog.pausedSpans(callID: call.id) == [closed, later])
                let twice = await catalogError { try await catalog.closePausedSpan(id: id, endMs: 8000) }
                #expect(twice?.code == .invalidArgument && twice?.message.contains("already closed") == true)
                #expect(try await catalog.pausedSpans(callID: call.id) == [closed, later])
                let unknown = await catalogError { try await catalog.closePausedSpan(id: id + 1000, endMs: 8000) }
                #expect(unknown?.code == .notFound)

                let backwards = await catalogError {
                    try await catalog.addPausedSpan(callID: call.id, recordingID: nil, startMs: 10, endMs: 5)
                }
                #expect(backwards?.code == .invalidArgument)
                // An unknown call is refused (SQLite reports its foreign key as a database failure).
                let noCall = await catalogError {
                    try await catalog.addPausedSpan(callID: "no-such", recordingID: nil, startMs: 10, endMs: nil)
                }
                #expect(noCall != nil, "a span was added to no call")
                if backend == .postgres { #expect(noCall?.code == .notFound, "\(String(describing: noCall))") }
                #expect(try await catalog.pausedSpans(callID: call.id).count == 2)
                #expect(try await catalog.pausedSpans(callID: "no-such").isEmpty)
            }
        }

        @Test(arguments: Backend.all)
        func recordingSummariesAreNewestFirstAndATenantFilterNeverReachesAnotherTenant(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                let other = try await fixture.tenant("other")
                let ours = try await fixture.call(of: acme)
                let theirs = try await fixture.call(of: other)
                let base = Date(timeIntervalSince1970: 1_800_000_000)
                func record(_ call: CallRecord, _ seconds: Double) async throws -> RecordingRecord {
                    try await fixture.recording(of: call, createdAt: base.addingTimeInterval(seconds))
                }
                let first = try await record(ours, 0)
                let second = try await record(ours, 60)
                let foreign = try await record(theirs, 30)
                #expect(try await catalog.recordingSummaries(callID: nil, tenantID: nil).map(\.id) == [second.id, foreign.id, first.id])
                #expect(try await catalog.recordingSummaries(callID: ours.id, tenantID: nil) == [RecordingSummary(second), RecordingSummary(first)])
                #expect(try await catalog.recordingSummaries(callID: nil, tenantID: other.id).map(\.id) == [foreign.id])
                #expect(try await catalog.recordingSummaries(callID: ours.id, tenantID: acme.id).count == 2)
                #expect(try await catalog.recordingSummaries(callID: theirs.id, tenantID: acme.id).isEmpty)
            }
        }

        @Test(arguments: Backend.all)
        func aRestrictionIsStoredAndAuditedWithItsReason(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                let recording = try await fixture.recording(of: call)
                let before = try await catalog.audit.entries().count
                for reason in ["", String(repeating: "x", count: 501)] {
                    let error = await catalogError {
                        try await catalog.setRestricted(recordingID: recording.id, true, reason: reason, actor: "cli", at: Date())
                    }
                    #expect(error?.code == .invalidArgument, "a reason of \(reason.utf8.count) bytes")
                }
                let unknown = await catalogError {
                    try await catalog.setRestricted(recordingID: "no-such", true, reason: "objection", actor: "cli", at: Date())
                }
                #expect(unknown?.code == .notFound)
                #expect(try await catalog.recording(id: recording.id, tenantID: nil).restricted == false)
                #expect(try await catalog.audit.entries().count == before, "a refusal was audited")

                try await catalog.setRestricted(recordingID: recording.id, true, reason: "objection 42", actor: "cli", at: Date())
                #expect(try await catalog.recording(id: recording.id, tenantID: nil).restricted)
                try await catalog.setRestricted(recordingID: recording.id, false, reason: "resolved", actor: "cli", at: Date())
                #expect(try await catalog.recording(id: recording.id, tenantID: nil).restricted == false)
                let entries = try await catalog.audit.entries().suffix(2)
                #expect(entries.map(\.action) == [.recordingRestricted, .recordingUnrestricted])
                #expect(entries.allSatisfy { $0.subjectId == recording.id && $0.tenantId == tenant.id && $0.actor == "cli" })
                #expect(entries.first?.details.contains("\"reason\":\"objection 42\"") == true)
                #expect(try await catalog.audit.verify().isIntact)
            }
        }
    }
}

extension CatalogFixture {
    /// A recording of one track of `call` (G.711 μ-law, 8 kHz, a path of its own), in state `recording`.
    func recording(
        of call: CallRecord, _ track: RecordingTrack = .caller, createdAt: Date = Date(), storage: SealedStorage? = nil
    ) async throws -> RecordingRecord {
        try await catalog.createRecording(
            id: nil, callID: call.id, track: track, codec: .g711u, sampleRate: 8000, path: "\(UUID().uuidString).cvr",
            createdAt: createdAt, node: nil, storage: storage)
    }
}
