import CallVaultArchive
import CallVaultModel
import CallVaultStore
import Foundation
import Synchronization
import Testing

@testable import CallVaultTranscribe

/// A tenant's own transcription model (`TenantPolicy.transcriptModel`): the worker routes its jobs to
/// an engine made for that directory, keeps it for the next, and a model that cannot be loaded fails
/// only its tenant's job through the queue. The real Whisper sidecar is in `WhisperEngineTests`.
@Suite("Transcription worker: a tenant's own model")
struct TenantModelTests {
    /// Stands in for an engine loaded with one model: its one segment names the model.
    final class ModelStubEngine: TranscriptionEngine {
        let name: String
        let model: String

        init(name: String, model: String) {
            self.name = name
            self.model = model
        }

        func transcribe(_ samples: [Int16], options: TranscriptionOptions) throws(TranscriptionError)
            -> [TranscriptSegment]
        {
            samples.isEmpty ? [] : [TranscriptSegment(startMs: 0, endMs: 1000, text: "model \(model)", words: [])]
        }
    }

    /// How many engines were made per model directory.
    final class Made: Sendable {
        let counts = Mutex([String: Int]())
    }

    /// Stub engines for directories that exist; `modelMissing` for the others, as Whisper's check says.
    static func stubFactory(_ made: Made) -> TranscriptionModelEngineFactory {
        { (directory: String) throws(TranscriptionError) in
            guard FileManager.default.fileExists(atPath: directory) else {
                throw TranscriptionError(.modelMissing, "the Whisper model directory \(directory) does not exist")
            }
            made.counts.withLock { $0[directory, default: 0] += 1 }
            return ModelStubEngine(name: "pocketsphinx", model: directory)
        }
    }

    func text(of callID: String, in fixture: TranscriptionFixture) async throws -> (engine: String, text: String) {
        let row = try #require(try fixture.catalog.transcripts(callID: callID).first)
        let store = TranscriptStore(catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory)
        let transcript = try await store.open(id: row.id, actor: "test").transcript
        return (row.engine, transcript.segments.map(\.text).joined(separator: " "))
    }

    @Test func aTenantsCallsUseItsModelOneEngineIsKeptAndABrokenModelFailsOnlyItsJob() async throws {
        let fixture = try TranscriptionFixture()
        let ownModel = fixture.temp + "/acme-model"
        try FileManager.default.createDirectory(atPath: ownModel, withIntermediateDirectories: true)
        var policy = try fixture.catalog.tenant(id: fixture.tenantID).policy
        policy.transcriptModel = ownModel
        try fixture.catalog.updatePolicy(ofTenant: fixture.tenantID, to: policy)
        let plain = try fixture.addTenant("plain")
        let missingModel = fixture.temp + "/not-yet-copied"
        let broken = try fixture.addTenant("broken", policy: TenantPolicy(transcriptModel: missingModel))

        let audio = try TranscriptionFixture.audio("answer.ulaw.wav")
        let first = try fixture.recordCall(caller: audio)
        let second = try fixture.recordCall(caller: audio)
        let other = try fixture.recordCall(caller: audio, tenantID: plain)
        let failing = try fixture.recordCall(caller: audio, tenantID: broken)

        let made = Made()
        let retry = JobRetryPolicy(maximumAttempts: 3, baseDelay: .seconds(600))
        let summary = try await fixture.drain(retry: retry, makeModelEngine: Self.stubFactory(made))
        #expect(summary.done == 3 && summary.failed == 1 && summary.dead == 0)
        #expect(made.counts.withLock { $0 } == [ownModel: 1], "one engine for the model, made once and kept")
        for call in [first, second] {
            #expect(try await text(of: call, in: fixture) == ("pocketsphinx", "model \(ownModel)"))
        }
        let plainText = try await text(of: other, in: fixture)
        #expect(plainText.engine == "pocketsphinx" && !plainText.text.hasPrefix("model "), "the worker's own engine")

        // The broken tenant's job failed with the reason and the way out, and is retried, not lost.
        let job = try #require(try fixture.catalog.jobs().first { $0.callId == failing })
        #expect(job.state == .failed && job.attempts == 1)
        let error = job.lastError ?? ""
        #expect(
            error.contains("tenant \(broken)'s transcript model") && error.contains(missingModel)
                && error.contains("--transcript-model default"), "\(error)")

        // The operator copies the model (and, not to wait for the backoff, retries the job): it is used.
        try FileManager.default.createDirectory(atPath: missingModel, withIntermediateDirectories: true)
        try fixture.catalog.retryJob(jobID: job.id)
        #expect(try await fixture.drain(retry: retry, makeModelEngine: Self.stubFactory(made)).done == 1)
        #expect(try await text(of: failing, in: fixture).text == "model \(missingModel)")

        // A run that ignores tenants' models (another engine, or --model given) uses its own engine.
        let ignored = try fixture.recordCall(caller: audio)
        #expect(try await fixture.drain().done == 1)
        #expect(try await !text(of: ignored, in: fixture).text.hasPrefix("model "))
    }

    @Test func aWorkerKeepsAtMostItsLimitOfModelEnginesDroppingTheLeastRecentlyUsed() async throws {
        let fixture = try TranscriptionFixture()
        let models = ["a", "b", "c"].map { fixture.temp + "/model-" + $0 }
        var tenants: [String] = []
        for (index, model) in models.enumerated() {
            try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
            tenants.append(try fixture.addTenant("t\(index)", policy: TenantPolicy(transcriptModel: model)))
        }
        let made = Made()
        let worker = TranscriptionWorker(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory,
            engine: ModelStubEngine(name: "pocketsphinx", model: "default"),
            configuration: .init(workerID: "w", maximumModelEngines: 2), makeModelEngine: Self.stubFactory(made))
        let audio = try TranscriptionFixture.audio("answer.ulaw.wav")
        for tenant in [tenants[0], tenants[1], tenants[0], tenants[2], tenants[0], tenants[1]] {
            try fixture.recordCall(caller: audio, tenantID: tenant)
            let report = try #require(try await worker.runNext())
            guard case .done = report.outcome else {
                Issue.record("\(report.outcome)")
                return
            }
        }
        // a, b, a (kept), c drops b, a (kept), b again drops c.
        #expect(made.counts.withLock { $0 } == [models[0]: 1, models[1]: 2, models[2]: 1])
        #expect(worker.loadedModels == [models[0], models[1]])
    }
}
