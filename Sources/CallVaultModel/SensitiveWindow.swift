/// A stretch of a call the bot declared sensitive while it happened ("I am collecting payment now"):
/// the caller's track in it is redacted whatever the detector finds, in the transcript and in the voice.
/// Pause and resume that cannot be forgotten, which keep the timeline: the recording goes on, and the
/// window is silenced after the call like a detected span. An `endMs` of nil: still open (closed at the
/// call's end).
public struct SensitiveWindow: Codable, Sendable, Equatable {
    /// Who opened or closed it: the control API, or a Twilio `mark` the bot placed in its audio.
    public enum Source: String, Codable, Sendable {
        case api, mark
    }

    public var id: Int64
    public var callId: String
    public var startMs: Int64
    public var endMs: Int64?
    public var source: Source

    public init(id: Int64, callId: String, startMs: Int64, endMs: Int64?, source: Source) {
        self.id = id
        self.callId = callId
        self.startMs = startMs
        self.endMs = endMs
        self.source = source
    }
}
