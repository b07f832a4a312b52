/// What was silenced in a recording's audio, kept with the recording that holds the redacted voice (its
/// `recordings.redaction` column) and shown in exports. Like the transcript's manifest it holds where and
/// what kind, never a value.
///
/// A redacted recording is a copy: the original's audio is re-sealed, spans silenced, under a data key of
/// its own, checked, and only then is the original's key destroyed (``RecordingRecord/redactedFrom`` names
/// it). `verification` says how far that got: a copy still `pending` has not replaced anything yet.
public struct RecordingRedaction: Codable, Sendable, Equatable {
    /// One silenced stretch of the call's timeline (padding included, neighbours merged).
    public struct Span: Codable, Sendable, Equatable {
        public var startMs: Int64
        public var endMs: Int64
        /// What was said there (`cardNumber`, `email`, ..., or `sensitiveWindow` for the bot's own window).
        public var kinds: [String]

        public init(startMs: Int64, endMs: Int64, kinds: [String]) {
            self.startMs = startMs
            self.endMs = endMs
            self.kinds = kinds
        }
    }

    /// How the check of the redacted copy came out.
    public enum Verification: String, Codable, Sendable {
        /// Written, not checked yet: the original still holds the voice.
        case pending
        /// Every span decodes to silence and the rest of the timeline is unchanged; the original was shredded.
        case passed
        /// The copy did not check out: it was destroyed and the original restricted until someone looks.
        case failed
    }

    public static let currentVersion = 1

    public var version: Int
    /// The redaction detector whose spans were silenced (`callvault-redaction-1`).
    public var detectorVersion: String
    /// Milliseconds added before and after each detected span.
    public var paddingMs: Int64
    /// What the spans hold now: `silence`.
    public var fill: String
    public var spans: [Span]
    public var verification: Verification

    public init(
        detectorVersion: String, paddingMs: Int64, spans: [Span], fill: String = "silence",
        verification: Verification = .pending
    ) {
        version = Self.currentVersion
        self.detectorVersion = detectorVersion
        self.paddingMs = paddingMs
        self.fill = fill
        self.spans = spans
        self.verification = verification
    }

    /// Milliseconds silenced in all.
    public var silencedMs: Int64 { spans.reduce(0) { $0 + ($1.endMs - $1.startMs) } }
}
