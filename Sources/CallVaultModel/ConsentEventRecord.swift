public import Foundation

/// One consent event of a call: the `consent_events` row, kept as evidence.
///
/// `frameIndex` and `timelineMs` say from which frame of the call's timeline the decision applies,
/// so an export can show exactly where recording started, stopped or was withheld.
public struct ConsentEventRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var callId: String
    public var kind: ConsentEventKind
    public var method: ConsentMethod
    public var at: Date
    public var frameIndex: Int64?
    public var timelineMs: Int64?

    public init(
        id: Int64? = nil,
        callId: String,
        kind: ConsentEventKind,
        method: ConsentMethod,
        at: Date,
        frameIndex: Int64? = nil,
        timelineMs: Int64? = nil
    ) {
        self.id = id
        self.callId = callId
        self.kind = kind
        self.method = method
        self.at = at
        self.frameIndex = frameIndex
        self.timelineMs = timelineMs
    }

    public enum CodingKeys: String, CodingKey, Sendable {
        case id
        case callId = "call_id"
        case kind, method, at
        case frameIndex = "frame_index"
        case timelineMs = "timeline_ms"
    }
}
