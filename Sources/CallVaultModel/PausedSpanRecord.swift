/// A stretch of a call's timeline whose audio was withheld (a pause, e.g. while a card number
/// is read): the `paused_spans` row. The sealed audio contains none of it; the span says where.
///
/// `recordingId` is nil when the pause applied to the whole call rather than one track.
/// `endMs` is nil while the pause is still open.
public struct PausedSpanRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var callId: String
    public var recordingId: String?
    public var startMs: Int64
    public var endMs: Int64?

    public init(id: Int64? = nil, callId: String, recordingId: String? = nil, startMs: Int64, endMs: Int64? = nil) {
        self.id = id
        self.callId = callId
        self.recordingId = recordingId
        self.startMs = startMs
        self.endMs = endMs
    }

    public enum CodingKeys: String, CodingKey, Sendable {
        case id
        case callId = "call_id"
        case recordingId = "recording_id"
        case startMs = "start_ms"
        case endMs = "end_ms"
    }
}
