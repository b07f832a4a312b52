/// Finds card numbers, bank details, contact data and identity numbers in a call's words, offline.
///
/// The detector reads both tracks: numbers through `SpokenNumberNormaliser` (spoken or written,
/// split over hesitations and short pauses), e-mail addresses spoken or written, dates after a
/// prompt. It returns spans — track, times, word range, kind — and never the values, so its output
/// can go to manifests and logs as it is.
///
/// ```swift
/// let detector = RedactionDetector()
/// let spans = detector.detect(words)                 // [RedactionSpan]
/// let redacted = TranscriptRedactor.redact(words, spans: spans)
/// ```
public struct RedactionDetector: Sendable {
    /// Stored in every span and manifest; bump it when a rule changes what is found.
    public static let version = "callvault-redaction-1"

    public let configuration: RedactionConfiguration
    let normaliser: SpokenNumberNormaliser

    public init(configuration: RedactionConfiguration = .init()) {
        self.configuration = configuration
        self.normaliser = SpokenNumberNormaliser(configuration: configuration)
    }

    /// The spans to redact in `words` (both tracks, in time order: prompts are looked for before a
    /// number by position), ordered by first word.
    /// Only kinds of `configuration.categories` are returned; overlapping findings on one track are
    /// merged into one span of the more sensitive kind.
    public func detect(_ words: [RedactionWord]) -> [RedactionSpan] {
        guard !words.isEmpty, !configuration.categories.isEmpty else { return [] }
        let context = DetectionContext(words: words, reader: normaliser.reader, configuration: configuration)
        var findings: [RedactionSpan] = []
        var cardEnds: [Int] = []
        for run in normaliser.runs(in: words, tokens: context.tokens) {
            let found = classify(run, in: context, cardEnds: cardEnds)
            cardEnds += found.filter { $0.kind == .cardNumber }.map(\.endMs)
            findings += found
        }
        findings += emails(in: context)
        findings += spokenDates(in: context)
        let wanted = findings.filter { configuration.categories.contains($0.category) }
        return Self.merged(wanted)
    }

    /// Which kind wins when two findings overlap: payment first (PCI), then the rest.
    static let precedence: [RedactionEntityKind] = [
        .cardNumber, .securityCode, .expiryDate, .iban, .accountNumber, .nationalID, .dateOfBirth, .phoneNumber, .email,
    ]

    /// Merges overlapping spans of one track into one, keeping the kind that comes first in
    /// `precedence`; a merged span's check is `.none` unless both agreed.
    static func merged(_ spans: [RedactionSpan]) -> [RedactionSpan] {
        var result: [RedactionSpan] = []
        let rank = Dictionary(uniqueKeysWithValues: precedence.enumerated().map { ($1, $0) })
        for span in spans.sorted(by: {
            ($0.words.lowerBound, $0.words.upperBound) < ($1.words.lowerBound, $1.words.upperBound)
        }) {
            if let index = result.lastIndex(where: { $0.track == span.track }), result[index].words.overlaps(span.words)
            {
                var kept = result[index]
                if rank[span.kind]! < rank[kept.kind]! {
                    kept.kind = span.kind
                    kept.check = span.check
                } else if span.kind == kept.kind, span.check != kept.check {
                    kept.check = .none
                }
                kept.words =
                    min(
                        kept.words.lowerBound,
                        span.words.lowerBound
                    )...max(kept.words.upperBound, span.words.upperBound)
                kept.startMs = min(kept.startMs, span.startMs)
                kept.endMs = max(kept.endMs, span.endMs)
                result[index] = kept
            } else {
                result.append(span)
            }
        }
        return result
    }
}
