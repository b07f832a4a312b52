public import CallVaultArchive
public import CallVaultModel
import CallVaultRedaction

/// The stretches of a call's timeline to silence: the detected spans, padded on both sides and merged
/// when they touch or nearly touch, the same for every track of the call.
///
/// Every track, not only the one the words were heard on: a bot reads numbers back, a caller's voice
/// leaks into the bot's track as echo, and a span a few hundred milliseconds wider costs nothing. The
/// padding covers word timings that are a little off (engines place word edges to within ~100 ms) and
/// a codec's ramp in and out of silence.
public struct AudioRedactionPlan: Sendable, Equatable {
    /// One detected span to silence: where on the timeline, and what it held.
    public struct Request: Sendable, Equatable {
        public var startMs: Int64
        public var endMs: Int64
        public var kind: String
        /// The track the words were heard on (`caller`, `bot`), nil: any.
        public var track: String?
        /// Wider bounds for that track's own audio (see ``TranscriptRedactions/Span/audioStartMs``).
        public var ownTrackStartMs: Int64?
        public var ownTrackEndMs: Int64?

        public init(
            startMs: Int64, endMs: Int64, kind: String, track: String? = nil, ownTrackStartMs: Int64? = nil,
            ownTrackEndMs: Int64? = nil
        ) {
            self.startMs = startMs
            self.endMs = endMs
            self.kind = kind
            self.track = track
            self.ownTrackStartMs = ownTrackStartMs
            self.ownTrackEndMs = ownTrackEndMs
        }

        /// The request as it applies to `track`'s audio: widened on its own track, as heard elsewhere (the
        /// other track gets the words' own stretch, for echo, not the guess around them).
        public func on(_ track: String) -> Request? {
            // A sensitive window is the caller's: the bot's voice in it (its prompts) is kept.
            if kind == RedactionEntityKind.sensitiveWindow.rawValue, let own = self.track, own != track { return nil }
            guard self.track == track else { return self }
            var own = self
            own.startMs = min(startMs, ownTrackStartMs ?? startMs)
            own.endMs = max(endMs, ownTrackEndMs ?? endMs)
            return own
        }
    }

    public static let defaultPaddingMs: Int64 = 250
    /// Spans this close after padding are merged: a quarter second of speech between two silenced
    /// stretches carries nothing worth keeping and sounds like a glitch.
    public static let defaultMergeGapMs: Int64 = 250

    public let paddingMs: Int64
    /// Padded and merged, in time order, none before 0.
    public let spans: [RecordingRedaction.Span]

    public init(
        _ requests: [Request], paddingMs: Int64 = Self.defaultPaddingMs, mergeGapMs: Int64 = Self.defaultMergeGapMs,
        keeping earlier: [RecordingRedaction.Span] = []
    ) {
        self.paddingMs = paddingMs
        let padded =
            requests.filter { $0.endMs >= $0.startMs }.map {
                RecordingRedaction.Span(
                    startMs: max(0, $0.startMs - paddingMs), endMs: $0.endMs + paddingMs, kinds: [$0.kind])
            } + earlier
        var merged: [RecordingRedaction.Span] = []
        for span in padded.sorted(by: { ($0.startMs, $0.endMs) < ($1.startMs, $1.endMs) }) {
            if var last = merged.last, span.startMs <= last.endMs + mergeGapMs {
                last.endMs = max(last.endMs, span.endMs)
                for kind in span.kinds where !last.kinds.contains(kind) { last.kinds.append(kind) }
                merged[merged.count - 1] = last
            } else {
                merged.append(span)
            }
        }
        spans = merged.map { span in
            var sorted = span
            sorted.kinds.sort()
            return sorted
        }
    }

    /// Whether every stretch of `other` lies inside this plan's spans (so redacting again adds nothing).
    public func covers(_ other: [RecordingRedaction.Span]) -> Bool {
        other.allSatisfy { wanted in
            spans.contains { $0.startMs <= wanted.startMs && $0.endMs >= wanted.endMs }
        }
    }

    /// The sample ranges of the spans at `sampleRate`, for the silencer and the check.
    func sampleRanges(sampleRate: Int) -> [Range<Int64>] {
        spans.map { span in
            let start = span.startMs * Int64(sampleRate) / 1000
            let end = (span.endMs * Int64(sampleRate) + 999) / 1000
            return start..<max(start, end)
        }
    }
}

extension AudioRedactionPlan.Request {
    /// A span of a transcript's redaction manifest, to silence in the audio.
    public init(_ span: TranscriptRedactions.Span) {
        self.init(
            startMs: Int64(span.startMs), endMs: Int64(span.endMs), kind: span.kind.rawValue, track: span.track,
            ownTrackStartMs: span.audioStartMs.map(Int64.init), ownTrackEndMs: span.audioEndMs.map(Int64.init))
    }
}
