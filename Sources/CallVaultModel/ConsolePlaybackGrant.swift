public import Foundation

/// A console session's leave to play one call, as the catalog keeps it for every node: what its
/// decryption was audited with, and until when.
public struct ConsolePlaybackGrant: Sendable, Equatable {
    public let callID: String
    /// The operator's reason for listening (already in the audit log).
    public let reason: String
    /// The override reason given for a restricted recording, nil when none was needed.
    public let overrideReason: String?
    public let expires: Date

    public init(callID: String, reason: String, overrideReason: String?, expires: Date) {
        self.callID = callID
        self.reason = reason
        self.overrideReason = overrideReason
        self.expires = expires
    }
}
