import Foundation

/// Tests that need a real external server (SoftHSM2, OpenBao, PostgreSQL, an S3 server) run against it,
/// and fail when it is missing — unless `CALLVAULT_SKIP_SERVICES=1` is set, when they are skipped with
/// that reason shown. Never skipped silently.
public enum Services {
    /// False only when `CALLVAULT_SKIP_SERVICES=1`.
    public static var required: Bool { ProcessInfo.processInfo.environment["CALLVAULT_SKIP_SERVICES"] != "1" }
}
