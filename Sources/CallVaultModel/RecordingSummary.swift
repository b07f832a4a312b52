public import Foundation

/// One line of `callvault recordings list`, with the fields CLI.md promises scripts.
public struct RecordingSummary: Sendable, Codable, Equatable, Identifiable {
    public let id: String
    public let callId: String
    public let tenantId: String
    public let track: RecordingTrack
    public let state: RecordingState
    public let codec: StorageCodec
    public let durationMs: Int64
    public let bytes: Int64
    public let expiresAt: Date
    public let hold: Bool

    public init(_ record: RecordingRecord) {
        id = record.id
        callId = record.callId
        tenantId = record.tenantId
        track = record.track
        state = record.state
        codec = record.codec
        durationMs = record.durationMs
        bytes = record.bytes
        expiresAt = record.expiresAt
        hold = record.hold
    }
}
