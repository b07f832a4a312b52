import Foundation

/// Named points where a crash test can kill the process, to prove that every state change survives a
/// crash between two steps (sealed file vs. catalog row, catalog vs. key store).
///
/// Off unless the environment variable `CALLVAULT_FAILPOINTS` names the point (comma-separated) when
/// the process starts; then reaching the point sends the process `SIGKILL`, exactly like `kill -9`.
/// Read once; a point not named costs one set lookup, and no point sits on the per-frame path.
public enum Failpoint: String, Sendable, CaseIterable {
    /// A recording's file is sealed (`last` segment written and synced), its catalog row not yet updated.
    case recordingSealed = "recording.sealed"
    /// Start-up recovery has read a recording back, its catalog row not yet updated.
    case recoveryScanned = "recovery.scanned"
    /// A multipart upload of a sealed file has sent its first part, not yet the rest nor the completion.
    case uploadPartSent = "upload.part-sent"
    /// A webhook outbox row is written inside the transaction of the change it reports, not yet committed.
    case webhookQueued = "webhook.queued"

    /// The points named in `CALLVAULT_FAILPOINTS` at start-up.
    static let armed: Set<String> = {
        guard let value = ProcessInfo.processInfo.environment["CALLVAULT_FAILPOINTS"] else { return [] }
        return Set(value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }()

    /// Kills the process with `SIGKILL` if this point is armed; otherwise does nothing.
    public func hit() {
        guard !Self.armed.isEmpty, Self.armed.contains(rawValue) else { return }
        kill(getpid(), SIGKILL)
    }
}
