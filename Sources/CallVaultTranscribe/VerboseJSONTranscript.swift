import CallVaultArchive
import Foundation

/// Reads the OpenAI `verbose_json` transcription shape (what whisper.cpp's server, faster-whisper
/// servers and hosted providers answer), shared by ``HTTPTranscriptionEngine`` and
/// ``CommandTranscriptionEngine`` so both turn the same JSON into the same segments.
///
/// Accepted: `segments[].start/end/text` (seconds) with optional `avg_logprob` and optional nested
/// `words`; optional top-level `words[].word/start/end/probability`, assigned to the segment holding
/// their midpoint; or only `text` (the plain `json` format), one segment spanning the audio.
/// Errors name the JSON path that failed, never a value (values are transcript text).
enum VerboseJSONTranscript {
    private struct Body: Decodable {
        var text: String?
        var segments: [Segment]?
        var words: [Word]?
    }

    private struct Segment: Decodable {
        var start: Double
        var end: Double
        var text: String
        var avg_logprob: Double?
        var words: [Word]?
    }

    private struct Word: Decodable {
        var word: String
        var start: Double
        var end: Double
        var probability: Double?
    }

    /// Whether `data` is a JSON object (anything else a program prints, `42` included, is plain text).
    static func isJSONObject(_ data: Data) -> Bool {
        (try? JSONSerialization.jsonObject(with: data)) is [String: Any]
    }

    /// The segments in `data`, times in ms; `audioDurationMs` bounds a text-only answer.
    static func segments(from data: Data, audioDurationMs: Int, engine: String) throws(TranscriptionError)
        -> [TranscriptSegment]
    {
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: data)
        } catch let error as DecodingError {
            throw TranscriptionError(.badResponse, "\(engine): not a verbose_json transcript (\(where_(error)))")
        } catch {
            throw TranscriptionError(.badResponse, "\(engine): not a verbose_json transcript")
        }

        guard let rawSegments = body.segments, !rawSegments.isEmpty else {
            let text = collapse(body.text ?? "")
            return text.isEmpty ? [] : [TranscriptSegment(startMs: 0, endMs: audioDurationMs, text: text, words: [])]
        }
        let ordered = rawSegments.sorted { $0.start < $1.start }
        var segments: [TranscriptSegment] = []
        var words: [[TranscriptWord]] = Array(repeating: [], count: ordered.count)
        for (index, segment) in ordered.enumerated() {
            let (startMs, endMs) = try milliseconds(segment.start, segment.end, engine: engine, what: "segments[\(index)]")
            let fallback = segment.avg_logprob.map { clamp(exp($0)) } ?? 1
            segments.append(TranscriptSegment(startMs: startMs, endMs: endMs, text: collapse(segment.text), words: []))
            for (w, word) in (segment.words ?? []).enumerated() {
                words[index].append(try transcriptWord(word, fallback: fallback, engine: engine, what: "segments[\(index)].words[\(w)]"))
            }
        }
        for (w, word) in (body.words ?? []).enumerated() {
            // The segment holding the word's midpoint, else the last one starting before it.
            let mid = (word.start + word.end) / 2
            let index =
                ordered.firstIndex { mid >= $0.start && mid < $0.end }
                ?? ordered.lastIndex { $0.start <= mid } ?? 0
            guard (ordered[index].words ?? []).isEmpty else { continue }  // nested words win
            let fallback = ordered[index].avg_logprob.map { clamp(exp($0)) } ?? 1
            words[index].append(try transcriptWord(word, fallback: fallback, engine: engine, what: "words[\(w)]"))
        }
        for index in segments.indices {
            segments[index].words = words[index].filter { !$0.word.isEmpty }.sorted { $0.startMs < $1.startMs }
        }
        return segments.filter { !$0.text.isEmpty || !$0.words.isEmpty }
    }

    private static func transcriptWord(_ word: Word, fallback: Double, engine: String, what: String) throws(TranscriptionError)
        -> TranscriptWord
    {
        let (startMs, endMs) = try milliseconds(word.start, word.end, engine: engine, what: what)
        return TranscriptWord(
            word: word.word.trimmingCharacters(in: .whitespacesAndNewlines), startMs: startMs, endMs: endMs,
            confidence: word.probability.map(clamp) ?? fallback)
    }

    private static func milliseconds(_ start: Double, _ end: Double, engine: String, what: String) throws(TranscriptionError)
        -> (Int, Int)
    {
        guard start.isFinite, end.isFinite, start >= 0, end >= 0, end < 1e9 else {
            throw TranscriptionError(.badResponse, "\(engine): \(what) has an impossible time")
        }
        let startMs = Int((start * 1000).rounded())
        return (startMs, max(startMs, Int((end * 1000).rounded())))
    }

    private static func clamp(_ value: Double) -> Double { value.isFinite ? min(1, max(0, value)) : 0 }

    private static func collapse(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// The coding path of a decoding failure: keys and indices only.
    private static func where_(_ error: DecodingError) -> String {
        let path: [any CodingKey]
        let what: String
        switch error {
        case .dataCorrupted(let context): (path, what) = (context.codingPath, "unreadable")
        case .keyNotFound(let key, let context): (path, what) = (context.codingPath + [key], "missing")
        case .typeMismatch(_, let context): (path, what) = (context.codingPath, "wrong type")
        case .valueNotFound(_, let context): (path, what) = (context.codingPath, "null")
        @unknown default: (path, what) = ([], "unreadable")
        }
        let rendered = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return rendered.isEmpty ? what : "\(what) at \(rendered.hasPrefix(".") ? String(rendered.dropFirst()) : rendered)"
    }
}
