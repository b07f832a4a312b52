public import CallVaultRedaction

/// Runs the offline detector over a transcript's words, both tracks in time order, and writes its
/// finds back as placeholders (`[CARD]`, `[EMAIL]`, ...) into the words and the texts of the
/// utterances they were in; returns the value-free manifest beside them.
///
/// Utterances without word timings (a plain-text engine) are read as their text's words, spread evenly
/// over the utterance, so a number in them is found too; their rebuilt text holds the placeholder.
/// A speaker that is neither `caller` nor `bot` (a file's single track) is read as the caller.
public enum TranscriptRedaction {
    /// The utterances with every span of `categories` replaced, and the manifest.
    /// - Parameter windows: stretches of the timeline (milliseconds) the bot declared sensitive: the caller's
    ///   words in them become `[REDACTED]` whatever the detector says, and each window is in the manifest
    ///   (kind `sensitiveWindow`, its own times), so its audio is silenced too.
    public static func redact(
        _ segments: [SpeakerSegment],
        categories: Set<RedactionCategory>,
        windows: [Range<Int>] = [],
        configuration: RedactionConfiguration = RedactionConfiguration()
    ) -> (segments: [SpeakerSegment], redactions: TranscriptRedactions) {
        var configuration = configuration
        configuration.categories = categories
        let detector = RedactionDetector(configuration: configuration)
        let inputs = segments.map(words(of:))
        var words: [RedactionWord] = []
        for (s, segment) in segments.enumerated() {
            let track = RedactionTrack(rawValue: segment.speaker) ?? .caller
            for (w, word) in inputs[s].enumerated() {
                words.append(
                    RedactionWord(
                        text: word.word,
                        startMs: word.startMs,
                        endMs: word.endMs,
                        track: track,
                        source: .init(segment: s, word: w)
                    )
                )
            }
        }
        // Time order across tracks (a bot's prompt inside a long caller utterance comes before the answer).
        words.sort { ($0.startMs, $0.source) < ($1.startMs, $1.source) }
        var spans = detector.detect(words)
        for window in windows {
            let inside = words.indices.filter {
                words[$0].track == .caller && words[$0].endMs > window.lowerBound && words[$0].startMs < window.upperBound
            }
            guard let first = inside.first, let last = inside.last else { continue }
            spans.append(
                RedactionSpan(
                    track: .caller, startMs: words[first].startMs, endMs: words[last].endMs, kind: .sensitiveWindow,
                    words: first...last))
        }
        let redacted = TranscriptRedactor.redact(
            words, spans: spans, categories: windows.isEmpty ? categories : categories.union([.payment]))
        // Which source word each placeholder stands for: the words of its track in its range (a
        // placeholder never spans two utterances; the other track's words inside it are kept).
        var placeholders: [RedactionWord.Source: Int] = [:]
        for (index, word) in redacted.words.enumerated() where word.isPlaceholder {
            for covered in word.words where words[covered].track == word.track {
                placeholders[words[covered].source] = index
            }
        }
        var output = segments
        for (s, segment) in segments.enumerated() {
            let input = inputs[s]
            guard input.indices.contains(where: { placeholders[.init(segment: s, word: $0)] != nil }) else { continue }
            var rebuilt: [TranscriptWord] = []
            var emitted: Set<Int> = []
            for (w, word) in input.enumerated() {
                guard let index = placeholders[.init(segment: s, word: w)] else {
                    rebuilt.append(word)
                    continue
                }
                let placeholder = redacted.words[index]
                guard emitted.insert(index).inserted else { continue }
                let covered = input.indices.filter { placeholders[.init(segment: s, word: $0)] == index }
                rebuilt.append(
                    TranscriptWord(
                        word: placeholder.text,
                        startMs: placeholder.startMs,
                        endMs: placeholder.endMs,
                        confidence: covered.map { input[$0].confidence }.min() ?? word.confidence
                    )
                )
            }
            output[s].text = rebuilt.map { $0.word.trimmingWhitespace }.filter { !$0.isEmpty }.joined(separator: " ")
            output[s].words = segment.words.isEmpty ? [] : rebuilt
        }
        var redactions = TranscriptRedactions(redacted.manifest)
        redactions.categories = RedactionCategory.allCases.filter(categories.contains)
        redactions.spans = redactions.spans.filter { $0.kind != .sensitiveWindow }.map { widenedForAudio($0, in: output) }
        // A window is kept with its own times, words heard in it or not: its audio is silenced whole.
        redactions.spans += windows.map {
            TranscriptRedactions.Span(track: RedactionTrack.caller.rawValue, startMs: $0.lowerBound, endMs: $0.upperBound, kind: .sensitiveWindow)
        }
        redactions.spans.sort { ($0.startMs, $0.track, $0.endMs) < ($1.startMs, $1.track, $1.endMs) }
        return (output, redactions)
    }

    /// How far past the last word of an utterance a span's audio is silenced (at most), and before its first.
    static let utteranceTailMs = 2_000
    static let utteranceLeadMs = 500

    /// The span with the audio bounds of ``TranscriptRedactions/Span/audioStartMs`` set where its words'
    /// times cannot be trusted to the edge: at the end or start of its utterance, or in an utterance
    /// without word timings.
    static func widenedForAudio(_ span: TranscriptRedactions.Span, in segments: [SpeakerSegment]) -> TranscriptRedactions.Span {
        let track = segments.indices.filter { (RedactionTrack(rawValue: segments[$0].speaker) ?? .caller).rawValue == span.track }
        let overlapping = track.filter { segments[$0].startMs <= span.endMs && segments[$0].endMs >= span.startMs }
        guard
            let index = overlapping.max(by: {
                min(segments[$0].endMs, span.endMs) - max(segments[$0].startMs, span.startMs)
                    < min(segments[$1].endMs, span.endMs) - max(segments[$1].startMs, span.startMs)
            })
        else { return span }
        let segment = segments[index]
        var start = span.startMs
        var end = span.endMs
        let position = track.firstIndex(of: index) ?? 0
        let next = track.indices.contains(position + 1) ? segments[track[position + 1]].startMs : Int.max
        let previous = position > 0 ? segments[track[position - 1]].endMs : 0
        if segment.words.isEmpty {
            start = min(start, segment.startMs)
            end = max(end, segment.endMs)
        }
        if span.endMs >= (segment.words.last?.endMs ?? segment.endMs) {
            end = max(end, min(next, max(segment.endMs, span.endMs) + utteranceTailMs))
        }
        if span.startMs <= (segment.words.first?.startMs ?? segment.startMs) {
            start = min(start, max(previous, min(segment.startMs, span.startMs) - utteranceLeadMs, 0))
        }
        var widened = span
        if start < span.startMs { widened.audioStartMs = start }
        if end > span.endMs { widened.audioEndMs = end }
        return widened
    }

    /// The same for a file's utterances (one speaker, read as the caller).
    public static func redact(
        _ segments: [TranscriptSegment],
        categories: Set<RedactionCategory>,
        configuration: RedactionConfiguration = RedactionConfiguration()
    ) -> (segments: [TranscriptSegment], redactions: TranscriptRedactions) {
        let speaking = segments.map { SpeakerSegment(speaker: RedactionTrack.caller.rawValue, $0) }
        let result = redact(speaking, categories: categories, configuration: configuration)
        return (
            result.segments.map {
                TranscriptSegment(startMs: $0.startMs, endMs: $0.endMs, text: $0.text, words: $0.words)
            },
            result.redactions
        )
    }

    /// The utterance's words, or for one without word timings its text's words spread evenly over it.
    static func words(of segment: SpeakerSegment) -> [TranscriptWord] {
        guard segment.words.isEmpty else { return segment.words }
        let tokens = segment.text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !tokens.isEmpty else { return [] }
        let length = max(segment.endMs - segment.startMs, tokens.count)
        return tokens.enumerated().map { index, token in
            TranscriptWord(
                word: token,
                startMs: segment.startMs + length * index / tokens.count,
                endMs: segment.startMs + length * (index + 1) / tokens.count,
                confidence: 1
            )
        }
    }
}

extension Transcript {
    /// Replaces what the detector finds for `categories` with placeholders and records the manifest in
    /// ``redactions``; the step the transcription worker runs before sealing.
    public mutating func redact(_ categories: Set<RedactionCategory>, windows: [Range<Int>] = []) {
        let result = TranscriptRedaction.redact(segments, categories: categories, windows: windows)
        segments = result.segments
        redactions = result.redactions
    }
}

extension String {
    fileprivate var trimmingWhitespace: Substring {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map(index(after:)) ?? start
        return self[start..<max(start, end)]
    }
}
