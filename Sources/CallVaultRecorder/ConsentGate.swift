public import CallVaultAudio
public import CallVaultModel

/// Decides, frame by frame, whether a call's audio may be written: the "consent first" guarantee.
///
/// Events are applied between frames, in arrival order; a frame asks ``admits`` after every event
/// that arrived before it, so a decision applies from the frame after the event (frame-exact).
/// A refused event changes nothing and says why (``ConsentError``).
///
/// | state \ event | disclosure | consent | deny | revoke | pause | resume |
/// | --- | --- | --- | --- | --- | --- | --- |
/// | waiting (opt-in) | disclosed | recording¹ | stopped | refused | paused | refused² |
/// | waiting (opt-out) | recording | recording¹ | stopped | stopped | paused | refused² |
/// | recording | (kept) | (kept) | stopped | stopped | paused | refused² |
/// | stopped (deny/revoke) | (kept) | recording¹ (the caller changed their mind) | (kept) | refused | paused | refused² |
/// | any, after ``end(atMs:)`` | refused | refused | refused | refused | refused | refused |
///
/// ¹ refused with `disclosureRequired` when the tenant requires the disclosure first and it has not
/// been played. ² `resume` is accepted only while paused; `pause` while paused is refused. Pausing
/// is independent of consent: a paused call writes nothing until resumed, whatever its consent.
/// In `not-required` mode the call records from the first frame; deny and revoke are kept as
/// evidence but do not stop it (the tenant relies on another legal basis).
///
/// `admits` is a stored flag: the per-frame cost is one load, no allocation.
public struct ConsentGate: Sendable {
    public enum Phase: Sendable, Equatable {
        /// Nothing written yet: waiting for consent (opt-in) or for the disclosure (opt-out).
        case waiting
        case recording
        /// The caller denied or revoked: nothing is written unless they consent again.
        case stopped
    }

    public let policy: ConsentPolicy
    public private(set) var phase: Phase
    public private(set) var disclosed = false
    /// Start of the current pause on the timeline, if paused.
    public private(set) var pausedSince: Int64?
    public private(set) var ended = false
    /// Whether the next frame may be written.
    public private(set) var admits: Bool

    public init(policy: ConsentPolicy) {
        self.policy = policy
        phase = policy.mode == .notRequired ? .recording : .waiting
        admits = phase == .recording
    }

    public var isPaused: Bool { pausedSince != nil }

    /// Whether a DTMF key pressed now could still decide something, so in-band detection must run:
    /// always with an opt-out digit (a deny or revoke is evidence even where it does not stop the
    /// recording); with only a consent digit, while nothing is being recorded (waiting, or stopped by a
    /// deny or revoke: the caller may change their mind); never without digits or after the end. The
    /// consent key pressed again while recording would only repeat a consent already given.
    public var keysCanDecide: Bool {
        guard !ended else { return false }
        if policy.optOutDigit != nil { return true }
        return policy.consentDigit != nil && phase != .recording
    }

    /// Applies one event arriving at `timelineMs`; returns what to store as evidence, or throws
    /// (and changes nothing) if the event is not allowed now.
    @discardableResult
    public mutating func apply(_ kind: ConsentEventKind, method: ConsentMethod, atMs timelineMs: Int64)
        throws(ConsentError) -> ConsentDecision
    {
        guard !ended else {
            throw ConsentError(.callEnded, "the call has ended; a \(kind.rawValue) event cannot apply to it")
        }
        var closedPause: PausedSpan?
        switch kind {
        case .disclosure:
            disclosed = true
            if policy.mode == .optOut && phase == .waiting { phase = .recording }
        case .consent:
            if policy.requireDisclosure && !disclosed {
                throw ConsentError(
                    .disclosureRequired,
                    "consent does not count before the disclosure was played (the tenant requires it); send disclosure first")
            }
            phase = .recording
        case .deny:
            if policy.mode != .notRequired { phase = .stopped }
        case .revoke:
            switch (policy.mode, phase) {
            case (.notRequired, _): break
            case (.optOut, .waiting), (_, .recording): phase = .stopped
            case (.optIn, .waiting), (_, .stopped):
                throw ConsentError(.nothingToRevoke, "there is no consent to revoke (nothing is being recorded)")
            }
        case .pause:
            guard pausedSince == nil else {
                throw ConsentError(.alreadyPaused, "the call is already paused; resume it first")
            }
            pausedSince = timelineMs
        case .resume:
            guard let start = pausedSince else {
                throw ConsentError(.notPaused, "the call is not paused; there is nothing to resume")
            }
            pausedSince = nil
            closedPause = PausedSpan(startMs: start, endMs: max(start, timelineMs))
        }
        admits = phase == .recording && pausedSince == nil
        return ConsentDecision(
            kind: kind, method: method, timelineMs: timelineMs, recordingAfter: admits, closedPause: closedPause)
    }

    /// Maps a DTMF key through the tenant's digits: the consent digit consents; the opt-out digit
    /// denies before consent and revokes after. Other keys (menus, card numbers) mean nothing here: nil.
    public mutating func apply(digit: DTMFDigit, atMs timelineMs: Int64) throws(ConsentError) -> ConsentDecision? {
        if digit == policy.consentDigit {
            return try apply(.consent, method: .dtmf, atMs: timelineMs)
        }
        if digit == policy.optOutDigit {
            let kind: ConsentEventKind = phase == .recording ? .revoke : .deny
            return try apply(kind, method: .dtmf, atMs: timelineMs)
        }
        return nil
    }

    /// Ends the call: nothing is admitted after it. Returns the pause left open, closed at `timelineMs`.
    public mutating func end(atMs timelineMs: Int64) -> PausedSpan? {
        ended = true
        admits = false
        defer { pausedSince = nil }
        return pausedSince.map { PausedSpan(startMs: $0, endMs: max($0, timelineMs)) }
    }
}
