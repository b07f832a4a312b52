import CallVaultArchive
import CallVaultModel
import CallVaultStore
import Foundation
import Testing

@testable import CallVaultTranscribe

/// A tenant's transcription settings applied by the real worker on the sample call: `--bot-transcript
/// asr|both`, `--vocabulary`, and the language detected per track with `--transcript-language auto`.
@Suite("Tenant transcription settings in the worker", .serialized, .timeLimit(.minutes(20)))
struct TenantTranscriptionSettingsTests {
    /// The sample call recorded for a new tenant with `policy`, its bot lines sent as utterances (300 ms
    /// after each line's audio began; `replacing` swaps the text of one line); returns the fixture's call.
    static func callWithUtterances(
        _ fixture: TranscriptionFixture, policy: TenantPolicy, replacing: (index: Int, text: String)? = nil
    ) async throws -> (callID: String, tenantID: String, lines: [String]) {
        let tenantID = try fixture.addTenant("tenant-\(UUID().uuidString.prefix(6))", policy: policy)
        let bot = try TranscriptionFixture.audio("bot.flac")
        let callID = try fixture.recordCall(
            caller: try TranscriptionFixture.audio("caller.flac"), bot: bot, tenantID: tenantID)
        var lines = try BotTextTranscriptionTests.botLines()
        if let replacing { lines[replacing.index] = replacing.text }
        let starts = UtteranceSplitter.utterances(bot, sampleRate: 8_000, minimumSilenceMs: 1_500, maximumMs: 60_000)
            .map { $0.lowerBound / 8 }
        try #require(starts.count == lines.count)
        let vault = BotUtteranceVault(catalog: fixture.catalog, keyStore: fixture.keyStore)
        for (index, (line, start)) in zip(lines, starts).enumerated() {
            try await vault.store(
                text: line, callID: callID, tenantID: tenantID, utteranceID: "line-\(index)",
                startMs: Int64(start + 300), endMs: nil, placement: .arrival)
        }
        return (callID, tenantID, lines)
    }

    static func transcript(_ fixture: TranscriptionFixture, callID: String) async throws -> Transcript {
        let row = try #require(try fixture.catalog.transcripts(callID: callID).first)
        let store = TranscriptStore(catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory)
        return try await store.open(id: row.id, actor: "test").1
    }

    @Test func withASRTheUtterancesAreIgnoredForTheTranscriptAndStillDiscarded() async throws {
        let fixture = try TranscriptionFixture()
        let policy = TenantPolicy(transcription: TenantTranscription(botTranscript: .asr))
        let call = try await Self.callWithUtterances(fixture, policy: policy)
        let summary = try await fixture.drain()
        #expect(summary.done == 1 && summary.botTextSegments == 0 && summary.botTextMismatches == 0)
        #expect(summary.audioMs > 90_000, "both tracks went to the engine: \(summary.audioMs) ms")
        let transcript = try await Self.transcript(fixture, callID: call.callID)
        #expect(transcript.botTextSegments == nil && transcript.botTextCheck == nil)
        #expect(transcript.segments.contains { $0.speaker == "bot" }, "the bot side is recognised speech")
        #expect(
            !transcript.segments.contains { $0.speaker == "bot" && call.lines.contains($0.text) },
            "no bot segment is the platform's text word for word (pocketsphinx is not that good)")
        #expect(try fixture.catalog.botUtterances(callID: call.callID).isEmpty, "sealed or not, the texts are discarded")
    }
}

/// The same with Whisper, which is good enough to check the bot's text against its audio and to take
/// hints; skipped, saying why, where `scripts/install-whisper` has not run (scripts/test runs it).
@Suite(
    "Tenant transcription settings with Whisper",
    .enabled(if: WhisperInstallation.isInstalled(), "Whisper is not installed: run scripts/install-whisper"),
    .serialized, .timeLimit(.minutes(20)))
struct TenantTranscriptionWhisperTests {
    static func whisper() throws(TranscriptionError) -> any TranscriptionEngine {
        let installation: WhisperInstallation
        do { installation = try WhisperEngineTests.installation() } catch {
            throw TranscriptionError(.modelMissing, "\(error)")
        }
        return try WhisperEngine(configuration: .init(installation: installation))
    }

    @Test func withBothATurnWhoseAudioSaysSomethingElseIsFlaggedAndTheRestPass() async throws {
        let fixture = try TranscriptionFixture()
        let policy = TenantPolicy(transcription: TenantTranscription(botTranscript: .both))
        // The platform logged another prompt than the one its text-to-speech played for the third line.
        let call = try await TenantTranscriptionSettingsTests.callWithUtterances(
            fixture, policy: policy,
            replacing: (2, "Your parcel will be delivered tomorrow morning between eight and ten."))
        let summary = try await fixture.drain(makeEngine: Self.whisper)
        #expect(summary.done == 1 && summary.botTextSegments == call.lines.count)
        #expect(summary.botTextMismatches == 1, "mismatches: \(summary.botTextMismatches)")
        #expect(summary.audioMs > 90_000, "with both, the whole bot track is recognised too")
        let transcript = try await TenantTranscriptionSettingsTests.transcript(fixture, callID: call.callID)
        let check = try #require(transcript.botTextCheck)
        #expect(check.checked == call.lines.count && check.mismatches.count == 1)
        let botSegments = transcript.segments.filter { $0.speaker == "bot" }
        #expect(botSegments.map(\.text) == call.lines, "the bot side is still the text, as sent")
        let flagged = try #require(check.mismatches.first)
        #expect(flagged.startMs == botSegments[2].startMs, "the flagged turn is the replaced line")
        #expect(flagged.wordErrorRate > 0.5 && flagged.heardWords > 3)
    }

    @Test func theTenantsVocabularyReachesWhisperAndItsWordsAreHeard() async throws {
        let fixture = try TranscriptionFixture()
        let vocabulary = try TenantTranscription.vocabulary(
            fileText: try String(contentsOfFile: TranscriptionFixture.samples + "/domain-vocabulary.txt", encoding: .utf8))
        let domain = try TranscriptionFixture.audio("domain.ulaw.wav")
        var heard: [Int] = []
        for words in [[], vocabulary] {
            let tenant = try fixture.addTenant(
                "t\(words.count)", policy: TenantPolicy(transcription: TenantTranscription(vocabulary: words)))
            let callID = try fixture.recordCall(caller: domain, tenantID: tenant)
            _ = try await fixture.drain(makeEngine: Self.whisper)
            let text = try await TenantTranscriptionSettingsTests.transcript(fixture, callID: callID)
                .segments.map(\.text).joined(separator: " ").lowercased()
            heard.append(vocabulary.filter { text.contains($0.lowercased()) }.count)
        }
        print("vocabulary, domain sample, whisper base: \(heard[0]) of \(vocabulary.count) terms without, \(heard[1]) with")
        #expect(heard[1] >= 5 && heard[1] >= heard[0] + 3, "terms heard without / with the vocabulary: \(heard)")
    }

    @Test func withLanguageAutoTheLanguageOfEachTrackIsRecorded() async throws {
        let fixture = try TranscriptionFixture()
        let tenant = try fixture.addTenant("auto", policy: TenantPolicy(transcriptLanguage: "auto"))
        let callID = try fixture.recordCall(
            caller: try TranscriptionFixture.audio("caller.flac"), bot: try TranscriptionFixture.audio("bot.flac"),
            tenantID: tenant)
        _ = try await fixture.drain(makeEngine: Self.whisper)
        let transcript = try await TenantTranscriptionSettingsTests.transcript(fixture, callID: callID)
        #expect(transcript.language == nil)
        let detected = try #require(transcript.detectedLanguages)
        #expect(detected.map(\.speaker) == ["caller", "bot"] && detected.allSatisfy { $0.language == "en" }, "\(detected)")
        #expect(detected.allSatisfy { ($0.probability ?? 0) > 0.5 }, "\(detected)")

        // A tenant with a fixed language records none.
        let fixed = try fixture.recordCall(caller: try TranscriptionFixture.audio("caller.flac"))
        _ = try await fixture.drain(makeEngine: Self.whisper)
        #expect(try await TenantTranscriptionSettingsTests.transcript(fixture, callID: fixed).detectedLanguages == nil)
    }
}
