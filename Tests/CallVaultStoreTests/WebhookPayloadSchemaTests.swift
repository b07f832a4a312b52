import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// Every webhook event the outbox writes matches its schema under `webhooks` in docs/openapi.json
/// (field names, types, required fields, the `type` constant, the RFC 3339 timestamp), checked by an
/// independent JSON Schema 2020-12 validator (jsonschema_rs, from schemathesis's venv).
@Suite("Webhook payloads against docs/openapi.json")
struct WebhookPayloadSchemaTests {
    static func drafts() throws -> [WebhookEventDraft] {
        let (tenant, call, recording) = ("t-1", "c-1", "r-1")
        func audited(_ action: AuditAction, _ subject: String, _ details: [String: String] = [:]) throws
            -> WebhookEventDraft
        {
            try #require(WebhookEventDraft(auditAction: action, tenantID: tenant, subjectID: subject, details: details))
        }
        return [
            try audited(.callStarted, call),
            WebhookEventDraft.callEnded(callID: call, tenantID: tenant),
            try audited(.consentEvent, call, ["kind": "consent", "method": "dtmf", "timelineMs": "3000"]),
            try audited(.consentEvent, call, ["kind": "deny", "method": "api"]),
            try audited(.consentEvent, call, ["kind": "revoke", "method": "verbal", "timelineMs": "9000"]),
            try #require(
                WebhookEventDraft.recordingClosed(
                    id: recording, callID: call, tenantID: tenant, track: .caller, state: .complete, durationMs: 3000,
                    bytes: 48_096)),
            try #require(
                WebhookEventDraft.recordingClosed(
                    id: recording, callID: call, tenantID: tenant, track: .bot, state: .interrupted, durationMs: 20,
                    bytes: 320)),
            try audited(.transcriptCreated, "tr-1", ["call": call, "engine": "whisper"]),
            WebhookEventDraft.jobFailed(jobID: "j-1", callID: call, tenantID: tenant, engine: "whisper", attempts: 2, dead: false),
            WebhookEventDraft.jobFailed(jobID: "j-1", callID: call, tenantID: tenant, engine: "whisper", attempts: 5, dead: true),
            try audited(.recordingShredded, recording, ["reason": "expired"]),
            try audited(
                .recordingRedacted, "r-2",
                ["original": recording, "track": "caller", "kinds": "cardNumber,email", "spans": "2", "silencedMs": "4200"]),
            try audited(.recordingRedactionFailed, recording, ["reason": "not written"]),
            try audited(.holdSet, recording, ["reason": "case 17"]),
            try audited(.holdCleared, recording),
            try audited(.subjectExported, "x-1"),
            try audited(.subjectErased, "ERASE-1", ["recordingsErased": "3", "transcriptsErased": "1"]),
        ]
    }

    @Test func everyEventTypeMatchesItsDocumentedSchema() throws {
        let drafts = try Self.drafts()
        // One of each type the model declares (the OpenAPI document's test checks it documents them all).
        #expect(Set(drafts.map(\.type.rawValue)).count == 17)
        let bodies = drafts.map { draft in
            // Recording events carry the call the outbox looked up from the recording row.
            let callID: String? =
                switch draft.call {
                case .none: nil
                case .call(let id): id
                case .recording: "c-1"
                }
            return (type: draft.type.rawValue, body: draft.payload(callID: callID, at: Date()))
        }
        guard let lines = try Schemathesis.validateWebhooks(bodies, document: Repository.root + "/docs/openapi.json") else {
            let message = Schemathesis.reportMissing("webhook payloads checked against docs/openapi.json")
            if Services.required { Issue.record(Comment(rawValue: message)) }
            return
        }
        #expect(lines.count == bodies.count && lines.allSatisfy { $0.hasPrefix("ok ") }, "\(lines)")
        // The validator does refuse a payload that breaks its schema.
        let broken = try Schemathesis.validateWebhooks(
            [(type: "recording.completed", body: #"{"data":{"callId":"c","tenantId":"t"},"timestamp":"now","type":"recording.completed"}"#)],
            document: Repository.root + "/docs/openapi.json")
        #expect(broken?.first?.hasPrefix("invalid recording.completed") == true, "\(broken ?? [])")
    }
}
