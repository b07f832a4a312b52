import CallVaultModel
import Foundation

/// A webhook event about to be written to the outbox inside the transaction of the change it
/// reports: its type, tenant, call and data fields — ids and metadata only, never audio, transcript
/// text, phone numbers or key material (no field is copied from free text).
///
/// Most events are read off the audit entry the change already appends in its transaction
/// (``init(auditAction:tenantID:subjectID:details:)``), so every backend writes them at the one place
/// evidence is written; the changes that are not audited (a call's end, a recording's close, a failed
/// transcription attempt) build theirs where they write.
struct WebhookEventDraft: Sendable, Equatable {
    enum Field: Sendable, Equatable {
        case string(String)
        case int(Int64)
    }

    /// Which call the event belongs to, for per-call ordering.
    enum CallReference: Sendable, Equatable {
        case none
        case call(String)
        /// Looked up in the transaction from the recording row.
        case recording(String)
    }

    var type: WebhookEventType
    var tenantID: String
    var call: CallReference
    var data: [String: Field]

    init(type: WebhookEventType, tenantID: String, call: CallReference, data: [String: Field]) {
        self.type = type
        self.tenantID = tenantID
        self.call = call
        self.data = data
    }

    /// The event an audit entry reports, or nil for an action webhooks do not carry.
    init?(auditAction action: AuditAction, tenantID: String?, subjectID: String?, details: [String: String]) {
        guard let tenantID, let subjectID else { return nil }
        switch action {
        case .callStarted:
            self.init(
                type: .callStarted,
                tenantID: tenantID,
                call: .call(subjectID),
                data: ["callId": .string(subjectID)]
            )
        case .consentEvent:
            let type: WebhookEventType
            switch details["kind"] {
            case ConsentEventKind.consent.rawValue: type = .consentGranted
            case ConsentEventKind.deny.rawValue: type = .consentDenied
            case ConsentEventKind.revoke.rawValue: type = .consentRevoked
            default: return nil
            }
            var data: [String: Field] = ["callId": .string(subjectID)]
            if let method = details["method"] { data["method"] = .string(method) }
            if let timeline = details["timelineMs"].flatMap({ Int64($0) }) { data["timelineMs"] = .int(timeline) }
            self.init(type: type, tenantID: tenantID, call: .call(subjectID), data: data)
        case .transcriptCreated:
            guard let callID = details["call"] else { return nil }
            var data: [String: Field] = ["callId": .string(callID), "transcriptId": .string(subjectID)]
            if let engine = details["engine"] { data["engine"] = .string(engine) }
            self.init(type: .transcriptCompleted, tenantID: tenantID, call: .call(callID), data: data)
        case .recordingShredded:
            var data: [String: Field] = ["recordingId": .string(subjectID)]
            if let reason = details["reason"] { data["reason"] = .string(reason) }
            self.init(type: .recordingShredded, tenantID: tenantID, call: .recording(subjectID), data: data)
        case .recordingRedacted:
            var data: [String: Field] = ["recordingId": .string(subjectID)]
            if let original = details["original"] { data["originalRecordingId"] = .string(original) }
            if let track = details["track"] { data["track"] = .string(track) }
            if let kinds = details["kinds"] { data["kinds"] = .string(kinds) }
            for key in ["spans", "silencedMs"] {
                if let count = details[key].flatMap({ Int64($0) }) { data[key] = .int(count) }
            }
            self.init(type: .recordingRedacted, tenantID: tenantID, call: .recording(subjectID), data: data)
        case .recordingStorageGap:
            var data: [String: Field] = ["recordingId": .string(subjectID)]
            for key in ["callId", "track", "reason", "resumed"] {
                if let value = details[key] { data[key] = .string(value) }
            }
            for key in ["lostMs", "afterMs", "segments"] {
                if let count = details[key].flatMap({ Int64($0) }) { data[key] = .int(count) }
            }
            self.init(type: .recordingStorageGap, tenantID: tenantID, call: .recording(subjectID), data: data)
        case .recordingRedactionFailed:
            // The reason is the checker's own words (positions, no values), but kept to the audit log.
            self.init(
                type: .recordingRedactionFailed, tenantID: tenantID, call: .recording(subjectID),
                data: ["recordingId": .string(subjectID)])
        case .holdSet, .holdCleared:
            // The hold's reason is free text an operator typed: not sent.
            self.init(
                type: action == .holdSet ? .holdSet : .holdCleared,
                tenantID: tenantID,
                call: .recording(subjectID),
                data: ["recordingId": .string(subjectID)]
            )
        case .subjectExported:
            self.init(type: .subjectExported, tenantID: tenantID, call: .none, data: ["exportId": .string(subjectID)])
        case .subjectErased:
            var data: [String: Field] = ["confirmationCode": .string(subjectID)]
            for key in ["recordingsErased", "transcriptsErased"] {
                if let count = details[key].flatMap({ Int64($0) }) { data[key] = .int(count) }
            }
            self.init(type: .subjectErased, tenantID: tenantID, call: .none, data: data)
        default:
            return nil
        }
    }

    /// A recording closed (completed, or interrupted by a crash and closed by recovery).
    static func recordingClosed(_ recording: RecordingRecord, state: RecordingState, durationMs: Int64, bytes: Int64)
        -> WebhookEventDraft?
    {
        recordingClosed(
            id: recording.id,
            callID: recording.callId,
            tenantID: recording.tenantId,
            track: recording.track,
            state: state,
            durationMs: durationMs,
            bytes: bytes
        )
    }

    static func recordingClosed(
        id: String,
        callID: String,
        tenantID: String,
        track: RecordingTrack,
        state: RecordingState,
        durationMs: Int64,
        bytes: Int64
    ) -> WebhookEventDraft? {
        let type: WebhookEventType
        switch state {
        case .complete: type = .recordingCompleted
        case .interrupted: type = .recordingInterrupted
        case .recording, .shredded: return nil
        }
        return WebhookEventDraft(
            type: type,
            tenantID: tenantID,
            call: .call(callID),
            data: [
                "callId": .string(callID), "recordingId": .string(id), "track": .string(track.rawValue),
                "durationMs": .int(durationMs), "bytes": .int(bytes),
            ]
        )
    }

    /// A call ended.
    static func callEnded(callID: String, tenantID: String) -> WebhookEventDraft {
        WebhookEventDraft(type: .callEnded, tenantID: tenantID, call: .call(callID), data: ["callId": .string(callID)])
    }

    /// A transcription attempt failed: `transcript.failed` while it will be retried, `job.dead` when it
    /// was dead-lettered. The job's error text is not sent (it may name files or engines' output).
    static func jobFailed(jobID: String, callID: String, tenantID: String, engine: String, attempts: Int, dead: Bool)
        -> WebhookEventDraft
    {
        WebhookEventDraft(
            type: dead ? .jobDead : .transcriptFailed,
            tenantID: tenantID,
            call: .call(callID),
            data: [
                "callId": .string(callID), "jobId": .string(jobID), "engine": .string(engine),
                "attempts": .int(Int64(attempts)),
            ]
        )
    }

    /// The request body: `{"data":{…},"timestamp":"…","type":"…"}`, keys sorted, so a row's body is
    /// the same bytes on every retry and on both backends.
    func payload(callID: String?, at: Date) -> String {
        var data = self.data
        data["tenantId"] = .string(tenantID)
        if let callID, data["callId"] == nil { data["callId"] = .string(callID) }
        var text = "{\"data\":{"
        for (index, key) in data.keys.sorted().enumerated() {
            if index > 0 { text += "," }
            AuditLog.appendJSONString(key, to: &text)
            text += ":"
            switch data[key]! {
            case .string(let value): AuditLog.appendJSONString(value, to: &text)
            case .int(let value): text += String(value)
            }
        }
        text += "},\"timestamp\":"
        AuditLog.appendJSONString(Self.timestamp(at), to: &text)
        text += ",\"type\":"
        AuditLog.appendJSONString(type.rawValue, to: &text)
        return text + "}"
    }

    /// RFC 3339 UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// A fresh `webhook-id`.
    static func newID() -> String {
        "msg_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }
}
