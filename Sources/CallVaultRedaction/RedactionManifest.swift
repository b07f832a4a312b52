/// What was redacted in a call, kept with the recording and shown in exports: spans with track,
/// times, kind and detector version. No values, no hashes, no partial numbers: a hash of a card
/// number is as good as the number to anyone who can enumerate card numbers.
public struct RedactionManifest: Sendable, Hashable, Codable {
    public static let currentVersion = 1

    public var version: Int
    public var detectorVersion: String
    /// The categories the tenant asked for when this ran.
    public var categories: [RedactionCategory]
    public var spans: [RedactionSpan]

    public init(
        detectorVersion: String = RedactionDetector.version,
        categories: Set<RedactionCategory>,
        spans: [RedactionSpan]
    ) {
        self.version = Self.currentVersion
        self.detectorVersion = detectorVersion
        self.categories = RedactionCategory.allCases.filter(categories.contains)
        self.spans = spans
    }

    /// How many spans of each kind, for reports and metrics (counts are not values).
    public var counts: [RedactionEntityKind: Int] {
        spans.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 }
    }
}
