import CallVaultModel

/// The checks both catalog backends make on consent evidence, paused spans and transcripts, so bad input
/// is refused as `invalidArgument` (or `notFound`, `duplicate`) with the same message on SQLite and
/// PostgreSQL (the schemas' CHECK constraints stay as the last line, but they answer differently:
/// `databaseFailure` on SQLite, a constraint's name on PostgreSQL).
enum CatalogInputChecks {
    /// A paused span that a call's end or a consent decision closes: starts at or after 0, ends at or
    /// after its start.
    static func check(_ pause: PausedSpan?) throws(CatalogError) {
        guard let pause else { return }
        guard pause.startMs >= 0 else {
            throw CatalogError(.invalidArgument, "a paused span cannot start before the call (\(pause.startMs) ms)")
        }
        guard pause.endMs >= pause.startMs else {
            throw CatalogError(.invalidArgument, "a paused span cannot end before it starts")
        }
    }

    /// A consent event's place in the call: a frame index and a timeline position, each 0 or more.
    static func checkPosition(frameIndex: Int64?, timelineMs: Int64?) throws(CatalogError) {
        if let frameIndex, frameIndex < 0 {
            throw CatalogError(.invalidArgument, "a consent event's frame index cannot be negative (\(frameIndex))")
        }
        if let timelineMs, timelineMs < 0 {
            throw CatalogError(.invalidArgument, "a consent event's timeline position cannot be negative (\(timelineMs) ms)")
        }
    }

    /// Every item of a run of consent evidence, before any of it is stored.
    static func check(_ evidence: [ConsentEvidence]) throws(CatalogError) {
        for item in evidence {
            try checkPosition(frameIndex: nil, timelineMs: item.timelineMs)
            try check(item.closedPause)
        }
    }

    /// The refusal of a transcript whose call does not exist or is another tenant's.
    static func noCall(for transcript: TranscriptRecord) -> CatalogError {
        CatalogError(
            .notFound, "no call with id \(transcript.callId) of tenant \(transcript.tenantId) for transcript \(transcript.id)")
    }

    /// The refusal of a second transcript with the same id.
    static func duplicate(_ transcript: TranscriptRecord) -> CatalogError {
        CatalogError(.duplicate, "transcript \(transcript.id) exists already")
    }

    /// A restriction override's reason: 1 to 500 bytes, so it fits the audit log.
    static func check(_ override: RestrictionOverride?) throws(CatalogError) {
        guard let override, !override.isValid else { return }
        throw CatalogError(.invalidArgument, "overriding a restriction needs a reason of 1 to 500 bytes")
    }
}
