#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Test-only faults. While the file named by `CALLVAULT_FAULT_SEGMENT_EIO` exists, every sealed segment
/// write fails with `EIO` (nothing written), as a failing disk's would, and so does the storage monitor's
/// probe write. It lets a test inject I/O errors into a running `serve` on any disk and lift them again.
///
/// Read once at start-up. Unset (always in production) it costs one load of a constant per segment, never
/// per frame; set, one `access(2)` per segment.
public enum WriteFault {
    /// The flag file, if the fault is armed.
    public static let flagPath: String? = getenv("CALLVAULT_FAULT_SEGMENT_EIO").map { String(cString: $0) }

    /// `EIO` while the flag file exists, else nil.
    @inline(__always)
    public static func injected() -> Int32? {
        guard let flagPath else { return nil }
        return access(flagPath, F_OK) == 0 ? EIO : nil
    }

    /// The flag file of the second fault: while the file named by `CALLVAULT_FAULT_SYNC_EIO` exists, the
    /// flush group's `fdatasync`, `syncfs` and write-back checks fail with `EIO` (the writes themselves
    /// succeed, as on a disk whose cache takes data it cannot make durable), and so does the storage
    /// monitor's probe write. Read once at start-up; unset, it costs one load per sync.
    public static let syncFlagPath: String? = getenv("CALLVAULT_FAULT_SYNC_EIO").map { String(cString: $0) }

    /// `EIO` while the sync flag file exists, else nil.
    @inline(__always)
    public static func injectedSync() -> Int32? {
        guard let syncFlagPath else { return nil }
        return access(syncFlagPath, F_OK) == 0 ? EIO : nil
    }
}
