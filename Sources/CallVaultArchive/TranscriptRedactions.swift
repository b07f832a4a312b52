public import CallVaultRedaction

/// The redaction manifest sealed with a transcript (`redactions` in its JSON): what was replaced by a
/// placeholder, where and by which detector. No values, hashes, check-digit results or word texts,
/// so it can be exported, shown and counted as it is.
///
/// Present when the tenant's policy asked for redaction, even with no spans (then it says the detector
/// ran and found nothing); absent in transcripts of tenants without redaction and in those made before
/// it existed.
public struct TranscriptRedactions: Sendable, Equatable, Codable {
    public static let currentVersion = 1

    /// One replaced stretch of one track.
    public struct Span: Sendable, Equatable, Codable {
        /// The track: `caller` or `bot`.
        public var track: String
        /// First and last replaced word, on the call's timeline.
        public var startMs: Int
        public var endMs: Int
        /// `cardNumber`, `securityCode`, `expiryDate`, `iban`, `accountNumber`, `phoneNumber`, `email`,
        /// `nationalID`, `dateOfBirth`.
        public var kind: RedactionEntityKind
        /// `payment`, `bank`, `contact` or `ids`.
        public var category: RedactionCategory
        /// Where the audio of this span is silenced on its own track, when wider than its words: engines
        /// place the last words of an utterance too early (Whisper ends a read-out card number up to 1.5 s
        /// before the voice does), so a span that ends (or starts) an utterance reaches to the track's
        /// next (or previous) utterance, at most 2 s (0.5 s) further; an utterance without word timings
        /// is silenced whole. Absent when the words' times are used as they are.
        public var audioStartMs: Int?
        public var audioEndMs: Int?

        public init(track: String, startMs: Int, endMs: Int, kind: RedactionEntityKind) {
            self.track = track
            self.startMs = startMs
            self.endMs = endMs
            self.kind = kind
            self.category = kind.category
        }
    }

    public var version: Int
    /// The detector that ran (`RedactionDetector.version`), so a re-run after an upgrade can tell.
    public var detectorVersion: String
    /// The categories the tenant asked for, in a fixed order.
    public var categories: [RedactionCategory]
    /// In time order.
    public var spans: [Span]

    public init(detectorVersion: String, categories: Set<RedactionCategory>, spans: [Span]) {
        self.version = Self.currentVersion
        self.detectorVersion = detectorVersion
        self.categories = RedactionCategory.allCases.filter(categories.contains)
        self.spans = spans
    }

    /// The stored form of a detector manifest: the value-free fields only.
    public init(_ manifest: RedactionManifest) {
        self.init(
            detectorVersion: manifest.detectorVersion,
            categories: Set(manifest.categories),
            spans: manifest.spans
                .map { Span(track: $0.track.rawValue, startMs: $0.startMs, endMs: $0.endMs, kind: $0.kind) }
                .sorted { ($0.startMs, $0.track, $0.endMs) < ($1.startMs, $1.track, $1.endMs) }
        )
    }

    /// Spans per kind, for audit entries and metrics (counts are not values).
    public var counts: [RedactionEntityKind: Int] {
        spans.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 }
    }

    /// `cardNumber:1,email:1` (kinds in a fixed order), or `none`: an audit detail.
    public var countsText: String {
        let counts = counts
        let items = RedactionEntityKind.allCases.compactMap { kind in counts[kind].map { "\(kind.rawValue):\($0)" } }
        return items.isEmpty ? "none" : items.joined(separator: ",")
    }
}
