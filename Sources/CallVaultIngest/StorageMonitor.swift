import CallVaultCrypto
import Foundation
public import Logging
import Metrics
public import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Watches the data directory's disk for `serve`: new calls are refused while it has less free space
/// than ``Configuration/minimumFreeBytes`` or while recordings' writes fail, and accepted again by
/// itself once it has room and takes writes again — no restart.
///
/// Cheap by construction: `statvfs` once a second on this service's own task, never per frame; the
/// ingest takes one uncontended lock (``refusal``) when a call starts, and reports each refused segment write and
/// each failed group `fdatasync` (``noteWriteFailure(errno:count:)``). While writes are failing, each
/// check also writes, syncs and removes a small probe file (`.storage-probe`) in the directory, so a
/// disk that returns `EIO` is known to have recovered only once it takes a write again.
public final class StorageMonitor: Sendable {
    /// What the monitor watches and when it says the disk is low.
    public struct Configuration: Sendable {
        /// The data directory (catalog, key store) and, if elsewhere, the directory recordings are written
        /// to (an objects directory or spool): the lowest free space of them counts.
        public var paths: [String]
        /// New calls are refused while fewer bytes are free for unprivileged writers (`f_bavail`).
        /// Default 256 MiB: with ~16 kB/s per G.711 call that is minutes of headroom for thousands of
        /// live calls, and room for SQLite's journal to finish their catalog work.
        public var minimumFreeBytes: Int64
        /// Between checks (default 1 s).
        public var interval: Duration

        public static let defaultMinimumFreeBytes: Int64 = 256 * 1024 * 1024

        public init(
            paths: [String],
            minimumFreeBytes: Int64 = defaultMinimumFreeBytes,
            interval: Duration = .seconds(1)
        ) {
            self.paths = Array(Set(paths)).sorted()
            self.minimumFreeBytes = minimumFreeBytes
            self.interval = interval
        }
    }

    /// The storage's state as `/healthz` shows it.
    public struct Health: Sendable, Equatable {
        /// Nil when healthy; else why new calls are refused.
        public let degradedReason: String?
        /// Bytes free for unprivileged writers at the last check (-1 before the first).
        public let freeBytes: Int64
        public let minimumFreeBytes: Int64
    }

    public let configuration: Configuration
    let logger: Logger
    /// What the checks and the failures found, under one lock (read when a call starts, written once a
    /// second and on each refused write: never per frame).
    private let state = Mutex(State())
    private let degradedGauge = Gauge(label: "callvault_storage_degraded")
    private let freeGauge = Gauge(label: "callvault_storage_free_bytes")
    private let writeFailures = Counter(label: "callvault_storage_write_failures_total")

    private struct State: Sendable {
        /// Bytes free at the last check, -1 before the first.
        var freeBytes: Int64 = -1
        /// errno of the failed write that made the disk "failing", 0 while writes succeed.
        var failingErrno: Int32 = 0
        /// Failed writes noted so far: a check clears "failing" only if none came during its probe.
        var failures = 0
    }

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Why a new call is refused now, or nil.
    public var refusal: String? { state.withLock { reason($0) } }

    /// The state `/healthz` reports.
    public var health: Health {
        let now = state.withLock { $0 }
        return Health(
            degradedReason: reason(now),
            freeBytes: now.freeBytes,
            minimumFreeBytes: configuration.minimumFreeBytes
        )
    }

    /// The refusal `state` means: a failed write first, then low space; nil when healthy.
    private func reason(_ state: State) -> String? {
        if state.failingErrno != 0 {
            return "the data disk refused a recording's write (\(Self.describe(state.failingErrno))); "
                + "live recordings are paused until it takes writes again"
        }
        if state.freeBytes >= 0, state.freeBytes < configuration.minimumFreeBytes {
            return "the data disk has \(state.freeBytes) bytes free, below --min-free-bytes "
                + "\(configuration.minimumFreeBytes); new calls are refused until there is room"
        }
        return nil
    }

    /// A recording's write (or the group's `fdatasync`) failed with `code` (`ENOSPC`, `EIO`, ...), `count`
    /// times: new calls are refused until a check finds room and a probe write succeeds. Counted in
    /// `callvault_storage_write_failures_total`.
    public func noteWriteFailure(errno code: Int32, count: Int = 1) {
        writeFailures.increment(by: Int64(count))
        let first = state.withLock { state -> Bool in
            state.failures += count
            guard state.failingErrno == 0 else { return false }
            state.failingErrno = code
            return true
        }
        guard first else { return }
        degradedGauge.record(1)
        logger.error(
            "storage degraded",
            metadata: [
                "paths": "\(configuration.paths.joined(separator: ","))",
                "reason": "\(refusal ?? Self.describe(code))",
            ]
        )
    }

    /// One check: free space by `statvfs`, and while writes are failing a probe write. Logs each change
    /// of state once.
    public func check() {
        let before = state.withLock { $0 }
        let wasDegraded = reason(before)
        var free = Int64.max
        for path in configuration.paths {
            var stats = statvfs()
            if statvfs(path, &stats) == 0 {
                free = min(free, Int64(stats.f_bavail) * Int64(stats.f_frsize))
            }
        }
        if free == .max { free = before.freeBytes }  // keep the last answer; the probe tells the rest
        freeGauge.record(free)
        let recovered =
            before.failingErrno != 0 && free >= configuration.minimumFreeBytes
            && configuration.paths.allSatisfy { probe($0) == 0 }
        let now = state.withLock { state -> State in
            state.freeBytes = free
            // A write that failed while the probe ran keeps the disk "failing".
            if recovered, state.failures == before.failures { state.failingErrno = 0 }
            return state
        }
        let why = reason(now)
        degradedGauge.record(why == nil ? 0 : 1)
        if let why, now.failingErrno == 0, wasDegraded == nil {
            logger.error(
                "storage degraded",
                metadata: ["paths": "\(configuration.paths.joined(separator: ","))", "reason": "\(why)"]
            )
        } else if why == nil, let wasDegraded {
            logger.notice(
                "storage recovered: new calls are accepted again",
                metadata: [
                    "paths": "\(configuration.paths.joined(separator: ","))", "freeBytes": "\(free)",
                    "was": "\(wasDegraded)",
                ]
            )
        }
    }

    /// Writes 4 KiB to `.storage-probe` in `directory`, syncs and removes it; 0 or the errno.
    private func probe(_ directory: String) -> Int32 {
        if let injected = WriteFault.injected() ?? WriteFault.injectedSync() { return injected }  // a test's failing disk
        let path = directory + "/.storage-probe"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return errno }
        defer {
            _ = close(fd)
            _ = unlink(path)
        }
        let bytes = [UInt8](repeating: 0, count: 4096)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written != bytes.count { return written < 0 ? errno : ENOSPC }
        return fsync(fd) == 0 ? 0 : errno
    }

    static func describe(_ code: Int32) -> String {
        let name =
            switch code {
            case ENOSPC: "ENOSPC"
            case EIO: "EIO"
            case EDQUOT: "EDQUOT"
            case EROFS: "EROFS"
            default: "errno \(code)"
            }
        return "\(name): \(String(cString: strerror(code)))"
    }

    /// Parses `--min-free-bytes`: a byte count with an optional binary suffix (`K`, `M`, `G`, `T`, with or
    /// without `iB`/`B`), e.g. `268435456`, `256M`, `256MiB`, `2G`. Nil when it is not one.
    public static func parseByteCount(_ text: String) -> Int64? {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        var unit: Int64 = 1
        for (suffixes, size) in [
            (["TiB", "TB", "T"], Int64(1) << 40), (["GiB", "GB", "G"], Int64(1) << 30),
            (["MiB", "MB", "M"], Int64(1) << 20), (["KiB", "KB", "K"], Int64(1) << 10), (["B"], Int64(1)),
        ] {
            if let suffix = suffixes.first(where: { digits.uppercased().hasSuffix($0.uppercased()) }) {
                digits = digits.dropLast(suffix.count)
                unit = size
                break
            }
        }
        guard let value = Int64(digits), value >= 0 else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? nil : product
    }
}

extension StorageMonitor: Service {
    /// Checks at once, then every ``Configuration/interval`` until the server shuts down.
    public func run() async throws {
        check()
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                try? await Task.sleep(for: configuration.interval)
                check()
            }
        } onGracefulShutdown: {
        }
    }
}
