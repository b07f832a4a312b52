import CallVaultArchive
import CallVaultModel
import CallVaultStore
import Foundation
import Testing

@testable import CallVaultTranscribe

/// Transcription that takes the bot's words from the bot (issue 22): the sample call's bot lines sent as
/// utterances (each arriving 300 ms after its audio began), the real recorder and worker, pocketsphinx on
/// the caller only.
@Suite("Transcription with the bot's own words")
struct BotTextTranscriptionTests {
    /// The bot's lines of `samples/call.txt`, in order.
    static func botLines() throws -> [String] {
        try String(contentsOfFile: TranscriptionFixture.samples + "/call.txt", encoding: .utf8)
            .split(separator: "\n")
            .compactMap { line -> String? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                let name = line[..<colon]
                guard name == "disclosure" || name.hasPrefix("bot-") else { return nil }
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
    }

    @Test func theBotSideIsTheBotsTextAndOnlyTheCallerGoesToTheEngine() async throws {
        let fixture = try TranscriptionFixture()
        let bot = try TranscriptionFixture.audio("bot.flac")
        let caller = try TranscriptionFixture.audio("caller.flac")
        // The same call without the bot's words first: the reference for the engine time saved.
        try fixture.recordCall(caller: caller, bot: bot)
        let reference = try await fixture.drain()
        #expect(reference.done == 1 && reference.botTextSegments == 0 && reference.audioMs > 80_000)
        let callID = try fixture.recordCall(caller: caller, bot: bot)
        let lines = try Self.botLines()
        // Where each line begins in the bot track (8 kHz): the platform's request arrives a little later.
        let starts = UtteranceSplitter.utterances(bot, sampleRate: 8_000, minimumSilenceMs: 1_500, maximumMs: 60_000)
            .map { $0.lowerBound / 8 }
        try #require(starts.count == lines.count, "the bot track's lines: \(starts)")
        let vault = BotUtteranceVault(catalog: fixture.catalog, keyStore: fixture.keyStore)
        for (index, (line, start)) in zip(lines, starts).enumerated() {
            try await vault.store(
                text: line, callID: callID, tenantID: fixture.tenantID, utteranceID: "line-\(index)",
                startMs: Int64(start + 300), endMs: nil, placement: .arrival)
        }

        let summary = try await fixture.drain()
        #expect(summary.done == 1)
        #expect(
            summary.botTextSegments == lines.count && summary.botTextUnspoken == 0,
            "placed \(summary.botTextSegments), unspoken \(summary.botTextUnspoken), starts \(starts)")
        print(
            "bot text, sample call, pocketsphinx: engine \(String(format: "%.1f", summary.engineSeconds)) s for "
                + "\(summary.audioMs) ms of audio, against \(String(format: "%.1f", reference.engineSeconds)) s for "
                + "\(reference.audioMs) ms with the bot track recognised "
                + "(\(String(format: "%.0f", 100 * (1 - summary.engineSeconds / max(reference.engineSeconds, 0.001))))% less)")
        let callerMs = Int64(caller.count / 8)
        #expect(summary.audioMs <= callerMs + 100, "only the caller track went to the engine: \(summary.audioMs) ms")

        let row = try #require(try fixture.catalog.transcripts(callID: callID).first)
        let store = TranscriptStore(catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory)
        let (_, transcript) = try await store.open(id: row.id, actor: "test")
        let botSegments = transcript.segments.filter { $0.speaker == "bot" }
        #expect(botSegments.map(\.text) == lines, "the bot side is exactly what the bot said")
        #expect(transcript.botTextSegments == lines.count)
        for (segment, start) in zip(botSegments, starts) {
            #expect(abs(segment.startMs - start) <= 250, "placed at the line's speech: \(segment.startMs) vs \(start)")
            #expect(segment.words.count == segment.text.split(separator: " ").count)
        }
        #expect(transcript.segments.contains { $0.speaker == "caller" }, "the caller is still transcribed")
        #expect(transcript.segments.first?.speaker == "bot", "the call opens with the disclosure")

        // Its words now live in the sealed transcript: the utterances and their key are gone.
        #expect(try fixture.catalog.botUtterances(callID: callID).isEmpty)
        let status = try fixture.keyStore.dataKeyStatus(
            ownerID: BotUtteranceVault.keyOwner(callID: callID), tenantID: fixture.tenantID)
        guard case .shredded = status else {
            Issue.record("the bot-text key is \(status), not shredded")
            return
        }
    }
}
