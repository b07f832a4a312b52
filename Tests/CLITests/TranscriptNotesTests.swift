import CallVaultArchive
import Testing

@testable import callvault

/// The `# ` lines `transcripts show --format text` adds after a call transcript.
@Suite struct TranscriptNotesTests {
    @Test func detectedLanguagesAndFlaggedBotTurnsAreNotedAndNothingElse() {
        var transcript = Transcript(
            callId: "c1", engine: "whisper", language: nil, createdAt: "2026-12-06T00:00:00Z", audioMs: 1000, segments: [])
        #expect(TranscriptOutput.notes(transcript).isEmpty, "a transcript without the fields prints as before")
        transcript.detectedLanguages = [
            DetectedLanguage(speaker: "caller", language: "nl", probability: 0.971),
            DetectedLanguage(speaker: "bot", language: "nl", probability: nil),
        ]
        transcript.botTextCheck = BotTextCheck(
            checked: 5, mismatches: [.init(startMs: 20_400, endMs: 25_000, wordErrorRate: 0.917, heardWords: 6)])
        #expect(
            TranscriptOutput.notes(transcript) == [
                "detected language: caller nl (0.97), bot nl",
                "bot turns checked against their audio: 5, not matching: 1 [00:00:20.400] (word error 0.92)",
            ])
    }
}
