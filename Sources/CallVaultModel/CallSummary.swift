public import Foundation

/// One line of `callvault calls list`: a call, its consent state and its recordings.
public struct CallSummary: Sendable, Codable, Equatable, Identifiable {
    public let id: String
    public let tenantId: String
    public let externalId: String
    public let startedAt: Date
    public let endedAt: Date?
    public let consentState: CallConsentState
    /// How many consent events the call has (each is evidence in the catalog and the audit log).
    public let consentEvents: Int
    public let recordings: [RecordingSummary]

    package init(
        id: String,
        tenantId: String,
        externalId: String,
        startedAt: Date,
        endedAt: Date?,
        consentState: CallConsentState,
        consentEvents: Int,
        recordings: [RecordingSummary]
    ) {
        self.id = id
        self.tenantId = tenantId
        self.externalId = externalId
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.consentState = consentState
        self.consentEvents = consentEvents
        self.recordings = recordings
    }
}
