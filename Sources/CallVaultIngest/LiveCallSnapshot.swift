public import CallVaultModel
public import Foundation

/// What one live call is doing now, as read on its streams' event loops between two frames: exact to
/// the frame, unlike the catalog's progress, which is as fresh as the recorder's last flush.
///
/// A read-only copy of plain values (no handle to the call), so a reader such as the operator console
/// can hold it, filter it by tenant and render it without reaching into the ingest.
public struct LiveCallSnapshot: Sendable, Equatable {
    /// The catalog id of the call.
    public var callID: String
    public var tenantID: String
    /// The provider's id for the call (Twilio `callSid`, …).
    public var externalID: String
    /// When the call started (the catalog's `started_at`).
    public var startedAt: Date
    /// One per connection: a call's two tracks may come on two streams, each with its own consent gate.
    public var streams: [Stream]

    public init(callID: String, tenantID: String, externalID: String, startedAt: Date, streams: [Stream]) {
        self.callID = callID
        self.tenantID = tenantID
        self.externalID = externalID
        self.startedAt = startedAt
        self.streams = streams
    }

    /// Where a stream's consent gate is (the recorder's ``ConsentGate``, as values).
    public enum GatePhase: String, Sendable, Equatable {
        /// Nothing written yet: waiting for consent (opt-in) or the disclosure (opt-out).
        case waiting
        case recording
        /// The caller denied or revoked: nothing is written unless they consent again.
        case stopped
    }

    /// The media protocol a stream arrived over.
    public enum MediaProtocol: String, Sendable, Equatable {
        case twilio
        /// The binary WebSocket of `/v1/stream`.
        case stream
        case audiosocket
        case siprec
    }

    /// One stream of the call: its protocol, its gate and its frame counters per track.
    public struct Stream: Sendable, Equatable {
        public var mediaProtocol: MediaProtocol
        /// When this process set the stream up.
        public var connectedAt: Date
        public var consentMode: ConsentMode
        public var phase: GatePhase
        /// Paused (a `pause` event): nothing is written until `resume`, whatever the consent.
        public var paused: Bool
        public var disclosed: Bool
        /// Whether the next frame will be written.
        public var admits: Bool
        /// The end of the newest frame recorded or dropped by the gate, on the call's timeline.
        public var timelineMs: Int64
        /// 20 ms frames per track that had any.
        public var tracks: [Track]

        public init(
            mediaProtocol: MediaProtocol,
            connectedAt: Date,
            consentMode: ConsentMode,
            phase: GatePhase,
            paused: Bool,
            disclosed: Bool,
            admits: Bool,
            timelineMs: Int64,
            tracks: [Track]
        ) {
            self.mediaProtocol = mediaProtocol
            self.connectedAt = connectedAt
            self.consentMode = consentMode
            self.phase = phase
            self.paused = paused
            self.disclosed = disclosed
            self.admits = admits
            self.timelineMs = timelineMs
            self.tracks = tracks
        }
    }

    /// A track's frames: received from the stream, and written to its recording (the rest were dropped
    /// by the gate, or are held while the catalog answers).
    public struct Track: Sendable, Equatable {
        public var track: RecordingTrack
        public var framesIn: Int
        public var framesRecorded: Int

        public init(track: RecordingTrack, framesIn: Int, framesRecorded: Int) {
            self.track = track
            self.framesIn = framesIn
            self.framesRecorded = framesRecorded
        }
    }
}
