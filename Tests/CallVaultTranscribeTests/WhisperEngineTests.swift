import CallVaultArchive
import CallVaultAudio
import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultTranscribe

#if canImport(Glibc)
    import Glibc
#endif

/// The Whisper engine against the real faster-whisper sidecar. `scripts/test` runs
/// `scripts/install-whisper` first; without it these tests are skipped, saying why.
@Suite(
    "Whisper engine: supervised faster-whisper sidecar",
    .enabled(if: WhisperInstallation.isInstalled(), "Whisper is not installed: run scripts/install-whisper"),
    .serialized, .timeLimit(.minutes(15)))
struct WhisperEngineTests {
    static let repository = Repository.root

    /// The installed venv and model, with the repository's sidecar program (the one under test).
    static func installation() throws -> WhisperInstallation {
        var installation = try WhisperInstallation.locate()
        installation.sidecar = repository + "/scripts/whisper-sidecar.py"
        return installation
    }

    static func sixteenKilohertz(_ file: String) throws -> [Int16] {
        let reader = try AudioFileReader(path: repository + "/samples/" + file)
        let audio = try reader.readAllMono()
        if reader.sampleRate == 16_000 { return audio }
        return Resampler.resample(audio, from: try SampleRate(hertz: reader.sampleRate), to: .hz16000)
    }

    @Test func theDisclosureIsRecognisedFromEightKilohertzMuLaw() throws {
        let engine = try WhisperEngine(configuration: .init(installation: Self.installation()))
        let reference = try String(contentsOfFile: Self.repository + "/samples/disclosure.txt", encoding: .utf8)
        let audio = try Self.sixteenKilohertz("disclosure.ulaw.wav")
        let start = ContinuousClock.now
        let segments = try engine.transcribe(audio, options: TranscriptionOptions())
        let seconds = (ContinuousClock.now - start).seconds
        let text = segments.map(\.text).joined(separator: " ")
        let wer = wordErrorRate(reference: reference, hypothesis: text)
        print(
            "whisper disclosure 8 kHz μ-law: WER \(String(format: "%.2f", wer)), real-time factor "
                + String(format: "%.3f", seconds / (Double(audio.count) / 16_000)))
        #expect(wer < 0.3, "WER \(wer): \(text)")
        let overhead = (engine.requestSeconds - engine.modelSeconds) / engine.modelSeconds
        print("whisper sidecar protocol: \(String(format: "%.2f", overhead * 100))% of model time")
        #expect(engine.modelSeconds > 0 && overhead >= 0 && overhead < 0.25, "protocol overhead \(overhead)")
        let words = segments.flatMap(\.words)
        #expect(!words.isEmpty && words.allSatisfy { (0...1).contains($0.confidence) && $0.startMs <= $0.endMs })
        #expect(zip(words, words.dropFirst()).allSatisfy { $0.startMs <= $1.startMs }, "words in time order")
    }

    @Test func aSidecarKilledMidJobFailsThatJobAndTheNextOneRunsOnANewSidecar() throws {
        let engine = try WhisperEngine(configuration: .init(installation: Self.installation()))
        let pid = try #require(engine.sidecarPID)
        let long = try Self.sixteenKilohertz("caller.flac")
        // Kill it while it works on 46 s of audio (several seconds of engine time).
        let killer = Thread {
            Thread.sleep(forTimeInterval: 1.0)
            kill(pid, SIGKILL)
        }
        killer.start()
        #expect {
            try engine.transcribe(long, options: TranscriptionOptions())
        } throws: { error in
            let error = error as? TranscriptionError
            return error?.code == .engineFailed && error?.message.contains("died") == true && error?.isRetryable == true
        }
        let answer = try engine.transcribe(Self.sixteenKilohertz("answer.16k.wav"), options: TranscriptionOptions())
        #expect(!answer.isEmpty)
        #expect(engine.sidecarPID != nil && engine.sidecarPID != pid, "a new sidecar")
    }

    @Test func aSidecarPastItsDeadlineIsKilledAndRestarted() throws {
        let engine = try WhisperEngine(
            configuration: .init(
                installation: Self.installation(), baseTimeout: .milliseconds(300), timeoutPerAudioSecond: .zero))
        let pid = try #require(engine.sidecarPID)
        #expect {
            try engine.transcribe(Self.sixteenKilohertz("caller.flac"), options: TranscriptionOptions())
        } throws: { ($0 as? TranscriptionError)?.code == .timedOut }
        #expect(kill(pid, 0) != 0, "the hung sidecar was killed")
    }

    @Test func aChangedModelFileIsRefusedByName() throws {
        let real = try WhisperInstallation.locate()
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("cv-whisper-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: temp) }
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        for name in ["model.bin", "tokenizer.json", "vocabulary.txt"] {
            try FileManager.default.createSymbolicLink(atPath: temp + "/" + name, withDestinationPath: real.model + "/" + name)
        }
        var config = try Data(contentsOf: URL(fileURLWithPath: real.model + "/config.json"))
        config[10] ^= 0x01
        try config.write(to: URL(fileURLWithPath: temp + "/config.json"))
        var tampered = real
        tampered.model = temp
        #expect {
            try WhisperEngine(configuration: .init(installation: tampered))
        } throws: { error in
            let error = error as? TranscriptionError
            return error?.code == .modelMissing && error?.message.contains("config.json") == true
        }
    }

    @Test func aSidecarThatAnswersGarbageIsAClearError() throws {
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("cv-garbage-\(UUID().uuidString).py").path
        defer { try? FileManager.default.removeItem(atPath: temp) }
        try "import sys\nsys.stdout.buffer.write(b'\\x00\\x00\\x00\\x05hello')\nsys.stdout.flush()\n"
            .write(toFile: temp, atomically: true, encoding: .utf8)
        var garbage = try Self.installation()
        garbage.sidecar = temp
        garbage.modelSums = nil
        #expect {
            try WhisperEngine(configuration: .init(installation: garbage))
        } throws: { ($0 as? TranscriptionError)?.code == .badResponse }
    }

    @Test func aRecordedCallIsTranscribedFromTheQueueByWhisper() async throws {
        let fixture = try TranscriptionFixture()
        let callID = try fixture.recordCall(
            caller: TranscriptionFixture.audio("caller.flac"), bot: TranscriptionFixture.audio("bot.flac"))
        let installation = try Self.installation()
        let summary = try await fixture.drain { () throws(TranscriptionError) in
            try WhisperEngine(configuration: .init(installation: installation))
        }
        #expect(summary.done == 1)
        print(
            "worker, whisper, sample call: real-time factor \(String(format: "%.3f", summary.realTimeFactor)), "
                + "unseal+decode+resample \(String(format: "%.1f", summary.overheadShare * 100))% of engine time")
        let row = try #require(try fixture.catalog.transcripts(callID: callID).first)
        #expect(row.engine == "whisper")
        let store = TranscriptStore(catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory)
        let transcript = try await store.open(id: row.id, actor: "test").transcript
        let reference = try String(contentsOfFile: TranscriptionFixture.samples + "/call.txt", encoding: .utf8)
        let lines = reference.split(separator: "\n").map { $0.split(separator: ":", maxSplits: 1) }
        let botReference = lines.filter { $0[0].hasPrefix("bot") || $0[0] == "disclosure" }.map { String($0[1]) }
        let botText = transcript.segments.filter { $0.speaker == "bot" }.map(\.text).joined(separator: " ")
        let wer = wordErrorRate(reference: botReference.joined(separator: " "), hypothesis: botText)
        print("whisper, bot track of the sample call: WER \(String(format: "%.3f", wer))")
        #expect(wer < 0.15, "bot WER \(wer)")
        #expect(transcript.segments.first?.speaker == "bot")
        #expect(zip(transcript.segments, transcript.segments.dropFirst()).allSatisfy { $0.startMs <= $1.startMs })
    }
}

extension WhisperEngineTests {
    /// The command line of a running process, arguments separated by NUL.
    static func commandLine(of pid: Int32) -> [String] {
        let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func aTenantsOwnModelGetsItsOwnSidecarAndABrokenOneFailsOnlyItsJob() async throws {
        let installation = try Self.installation()
        let fixture = try TranscriptionFixture()
        // The tenant's "own" model: the installed one reached through another path.
        let own = fixture.temp + "/acme-whisper"
        try FileManager.default.createSymbolicLink(atPath: own, withDestinationPath: installation.model)
        var policy = try fixture.catalog.tenant(id: fixture.tenantID).policy
        policy.transcriptModel = own
        try fixture.catalog.updatePolicy(ofTenant: fixture.tenantID, to: policy)
        // A model directory that looks right but whose weights are garbage: only the sidecar finds out.
        let broken = fixture.temp + "/broken-whisper"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        for name in ["config.json", "tokenizer.json", "vocabulary.txt"] {
            try FileManager.default.createSymbolicLink(
                atPath: broken + "/" + name, withDestinationPath: installation.model + "/" + name)
        }
        try Data(repeating: 0x5A, count: 4096).write(to: URL(fileURLWithPath: broken + "/model.bin"))
        let brokenTenant = try fixture.addTenant("broken", policy: TenantPolicy(transcriptModel: broken))
        let plainTenant = try fixture.addTenant("plain")

        let audio = try TranscriptionFixture.audio("answer.ulaw.wav")
        let acmeCall = try fixture.recordCall(caller: audio)
        let brokenCall = try fixture.recordCall(caller: audio, tenantID: brokenTenant)
        let plainCall = try fixture.recordCall(caller: audio, tenantID: plainTenant)

        let defaultEngine = try WhisperEngine(configuration: .init(installation: installation))
        let worker = TranscriptionWorker(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory,
            engine: defaultEngine,
            configuration: .init(workerID: "w", retry: JobRetryPolicy(maximumAttempts: 3, baseDelay: .seconds(600))),
            makeModelEngine: { (directory: String) throws(TranscriptionError) in
                try WhisperEngine(configuration: .init(installation: installation.using(model: directory)))
            })
        var outcomes: [String: TranscriptionWorker.Report.Outcome] = [:]
        while let report = try await worker.runNext() { outcomes[report.callID] = report.outcome }

        guard case .done = outcomes[acmeCall], case .done = outcomes[plainCall] else {
            Issue.record("\(outcomes)")
            return
        }
        guard case .failed(let why) = outcomes[brokenCall] else {
            Issue.record("the broken model's job: \(String(describing: outcomes[brokenCall]))")
            return
        }
        #expect(why.contains("tenant \(brokenTenant)'s transcript model \(broken)") && why.contains("could not load"), "\(why)")
        let failed = try #require(try fixture.catalog.jobs().first { $0.callId == brokenCall })
        #expect(failed.state == .failed && failed.attempts == 1 && failed.lastError == why, "queued again, not lost")

        // The tenant's job ran on a sidecar started for its directory, kept for its next call.
        #expect(worker.loadedModels == [own])
        let tenantEngine = try #require(worker.keptEngine(for: own) as? WhisperEngine)
        #expect(tenantEngine.configuration.installation.model == own && tenantEngine.requestSeconds > 0)
        let pid = try #require(tenantEngine.sidecarPID)
        let arguments = Self.commandLine(of: pid)
        #expect(arguments.firstIndex(of: "--model").map { arguments[$0 + 1] } == own, "\(arguments)")
        #expect(defaultEngine.sidecarPID != pid && defaultEngine.requestSeconds > 0, "the plain tenant's job")
        let defaultArguments = Self.commandLine(of: try #require(defaultEngine.sidecarPID))
        #expect(defaultArguments.firstIndex(of: "--model").map { defaultArguments[$0 + 1] } == installation.model)
        for call in [acmeCall, plainCall] {
            #expect(try fixture.catalog.transcripts(callID: call).map(\.engine) == ["whisper"])
        }

        let again = try fixture.recordCall(caller: audio)
        #expect(try await worker.runNext()?.callID == again)
        #expect(tenantEngine.sidecarPID == pid, "the model was loaded once")
    }
}
