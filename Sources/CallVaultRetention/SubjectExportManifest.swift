public import CallVaultModel
public import Foundation

/// `manifest.json` of a data-subject export: what the ZIP holds, call by call, and what it leaves out
/// and why. Format version 1 is documented in `docs/subject-export.md`.
///
/// The caller is named only as ``callerDescription``: the phone number is never written into the
/// archive (it is matched through the tenant's keyed hash and exists only in the request).
public struct SubjectExportManifest: Sendable, Equatable, Codable {
    public static let currentVersion = 1
    public static let formatName = "callvault.subject-export"
    public static let callerDescription = "the caller whose number was given"

    public var format: String
    public var version: Int
    /// Also the `subjectId` of the `subject.exported` audit entry, so the archive and the entry match.
    public var exportId: String
    public var tenantId: String
    public var exportedAt: Date
    public var caller: String
    /// Whether restricted recordings were included by an audited override (`--include-restricted`).
    public var restrictedIncluded: Bool
    public var calls: [Call]

    /// What happened to one recording or transcript in this export.
    public enum Status: String, Sendable, Codable {
        /// Its decrypted content is in the archive.
        case included
        /// Its keys were destroyed (retention expired, or erased): no one can read it any more.
        case shredded
        /// Restricted (GDPR Art. 18) and left out, because no override was given (a transcript: made
        /// from a restricted recording of its call).
        case restricted
        /// It could not be decrypted or decoded (see `reason`); nothing of it is in the archive.
        case unreadable
    }

    public struct Call: Sendable, Equatable, Codable {
        public var id: String
        public var externalId: String
        public var startedAt: Date
        public var endedAt: Date?
        /// Paths inside the archive that belong to this call.
        public var files: [String]
        /// The stereo WAV, if any track was included.
        public var audio: Audio?
        public var recordings: [Recording]
        public var transcripts: [TranscriptItem]
        public var consentEventCount: Int
        public var pausedSpanCount: Int
    }

    /// `calls/<id>/audio.wav`: caller left, bot right, both on the call's timeline from its start.
    public struct Audio: Sendable, Equatable, Codable {
        public var file: String
        public var sampleRate: Int
        public var channels: Int
        public var left: String
        public var right: String
        public var durationMs: Int64
    }

    public struct Recording: Sendable, Equatable, Codable {
        public var id: String
        public var track: String
        /// The catalog state: `recording`, `complete`, `interrupted` or `shredded`.
        public var state: String
        public var codec: String
        public var sampleRate: Int
        public var createdAt: Date
        public var status: Status
        /// Why it is not included, or a note on what is (an interrupted recording, an override).
        public var reason: String?
        /// True when it was restricted and included by the override (audited).
        public var restrictionOverridden: Bool?
        /// Milliseconds of its audio in `audio.wav` (included ones only).
        public var durationMs: Int64?
        /// For a redacted copy: the recording it replaced, and what was silenced (kinds and times, no values).
        public var redactedFrom: String?
        public var redaction: RecordingRedaction?
    }

    public struct TranscriptItem: Sendable, Equatable, Codable {
        public var id: String
        public var engine: String
        public var state: String
        public var createdAt: Date
        public var status: Status
        public var file: String?
        public var reason: String?
    }
}

/// `calls/<id>/consent.json`: the call's consent evidence and the spans whose audio was withheld.
public struct SubjectExportConsent: Sendable, Equatable, Codable {
    public struct Event: Sendable, Equatable, Codable {
        /// `disclosure`, `consent`, `deny`, `revoke`, `pause` or `resume`.
        public var kind: String
        /// `api`, `dtmf`, `verbal`, `inband` or `pipeline`.
        public var method: String
        public var at: Date
        /// Where on the call's timeline the decision applies, when known.
        public var timelineMs: Int64?
        public var frameIndex: Int64?
    }

    public struct PausedSpan: Sendable, Equatable, Codable {
        /// The recording it applied to; nil for the whole call.
        public var recordingId: String?
        public var startMs: Int64
        /// Nil while the pause was never closed.
        public var endMs: Int64?
    }

    public var callId: String
    public var events: [Event]
    public var pausedSpans: [PausedSpan]
}
