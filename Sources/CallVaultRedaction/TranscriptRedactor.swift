/// A transcript's words after redaction, and the manifest describing what was removed.
public struct RedactedTranscript: Sendable, Hashable, Codable {
    public var words: [RedactedWord]
    public var manifest: RedactionManifest

    public init(words: [RedactedWord], manifest: RedactionManifest) {
        self.words = words
        self.manifest = manifest
    }
}

/// Replaces the words spans cover with placeholders: one placeholder per span and utterance, at the
/// place of the span's first word, with the span's times, so the text reads "my card is [CARD]"
/// and a stored segment never holds a piece of a number.
public enum TranscriptRedactor {
    /// The redacted word list for `words` (the detector's input) and `spans` (its output).
    ///
    /// Words of the other track inside a span's range (a bot's "mm-hmm") are kept; words of the
    /// span's track in its range (the digits, and the "uh" between them) become the placeholder.
    public static func redact(
        _ words: [RedactionWord],
        spans: [RedactionSpan],
        categories: Set<RedactionCategory> = Set(RedactionCategory.allCases)
    ) -> RedactedTranscript {
        var cover = [Int?](repeating: nil, count: words.count)
        for (spanIndex, span) in spans.enumerated() {
            for index in span.words where words.indices.contains(index) && words[index].track == span.track {
                cover[index] = cover[index] ?? spanIndex
            }
        }
        var output: [RedactedWord] = []
        var open: [RedactionTrack: (output: Int, span: Int)] = [:]
        for (index, word) in words.enumerated() {
            guard let spanIndex = cover[index] else {
                open[word.track] = nil
                output.append(
                    RedactedWord(
                        text: word.text,
                        startMs: word.startMs,
                        endMs: word.endMs,
                        track: word.track,
                        sources: word.source...word.source,
                        words: index...index,
                        kind: nil
                    )
                )
                continue
            }
            if let current = open[word.track], current.span == spanIndex,
                output[current.output].sources.upperBound.segment == word.source.segment
            {
                var placeholder = output[current.output]
                placeholder.endMs = max(placeholder.endMs, word.endMs)
                placeholder.sources = placeholder.sources.lowerBound...max(placeholder.sources.upperBound, word.source)
                placeholder.words = placeholder.words.lowerBound...index
                output[current.output] = placeholder
                continue
            }
            let kind = spans[spanIndex].kind
            open[word.track] = (output.count, spanIndex)
            output.append(
                RedactedWord(
                    text: kind.placeholder,
                    startMs: word.startMs,
                    endMs: word.endMs,
                    track: word.track,
                    sources: word.source...word.source,
                    words: index...index,
                    kind: kind
                )
            )
        }
        return RedactedTranscript(words: output, manifest: RedactionManifest(categories: categories, spans: spans))
    }
}

extension RedactionDetector {
    /// Detects and redacts in one step: the redacted words and the manifest.
    public func redact(_ words: [RedactionWord]) -> RedactedTranscript {
        TranscriptRedactor.redact(words, spans: detect(words), categories: configuration.categories)
    }
}
