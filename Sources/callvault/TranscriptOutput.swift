import CallVaultArchive
import Foundation

/// Transcripts as text, SRT or WebVTT for the terminal and subtitle tools.
enum TranscriptOutput {
    enum Format: String, CaseIterable {
        case text, json, srt, vtt
    }

    /// Plain text: one utterance per line, with its start time and speaker when known.
    static func text(_ segments: [(speaker: String?, segment: TranscriptSegment)]) -> String {
        segments.map { item in
            let time = clock(item.segment.startMs, separator: ".")
            return item.speaker.map { "[\(time)] \($0): \(item.segment.text)" } ?? item.segment.text
        }.joined(separator: "\n")
    }

    /// SRT or VTT cues, prefixed with the speaker when known.
    static func subtitles(_ segments: [(speaker: String?, segment: TranscriptSegment)], format: Format) -> String {
        var out = format == .vtt ? "WEBVTT\n\n" : ""
        let separator = format == .srt ? "," : "."
        for (index, item) in segments.enumerated() {
            if format == .srt { out += "\(index + 1)\n" }
            out += "\(clock(item.segment.startMs, separator: separator)) --> \(clock(item.segment.endMs, separator: separator))\n"
            out += (item.speaker.map { "\($0): " } ?? "") + item.segment.text + "\n\n"
        }
        return out
    }

    /// `00:00:01,200` (SRT) or `00:00:01.200` (VTT, text).
    static func clock(_ ms: Int, separator: String) -> String {
        String(format: "%02d:%02d:%02d%@%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, separator, ms % 1000)
    }

    /// Lines after a call transcript's text for what its reader should know about it: the languages
    /// detected, and the bot turns whose audio did not say their text (`--bot-transcript both`).
    static func notes(_ transcript: Transcript) -> [String] {
        var notes: [String] = []
        if let detected = transcript.detectedLanguages, !detected.isEmpty {
            notes.append(
                "detected language: "
                    + detected.map { "\($0.speaker) \($0.language)" + ($0.probability.map { String(format: " (%.2f)", $0) } ?? "") }
                    .joined(separator: ", "))
        }
        if let check = transcript.botTextCheck {
            let flagged = check.mismatches.map {
                "[\(clock($0.startMs, separator: "."))] (word error \(String(format: "%.2f", $0.wordErrorRate)))"
            }
            notes.append(
                "bot turns checked against their audio: \(check.checked), not matching: \(check.mismatches.count)"
                    + (flagged.isEmpty ? "" : " " + flagged.joined(separator: " ")))
        }
        return notes
    }

    /// The segments of a call transcript with their speakers.
    static func items(_ transcript: Transcript) -> [(speaker: String?, segment: TranscriptSegment)] {
        transcript.segments.map {
            (speaker: $0.speaker, segment: TranscriptSegment(startMs: $0.startMs, endMs: $0.endMs, text: $0.text, words: $0.words))
        }
    }
}
