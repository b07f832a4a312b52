import CallVaultTestSupport
import Foundation
import Logging
import Testing

@testable import CallVaultIngest

#if canImport(Glibc)
    import Glibc
#endif

/// The storage monitor on a real directory: the threshold, a write failure and its recovery by a probe.
/// (`DiskFullServeTests` fills a real tmpfs under a real `serve`.)
@Suite struct StorageMonitorTests {
    @Test func byteCountsTakeBinaryUnits() {
        #expect(StorageMonitor.parseByteCount("268435456") == 268_435_456)
        #expect(StorageMonitor.parseByteCount("256MiB") == 256 << 20)
        #expect(StorageMonitor.parseByteCount("256M") == 256 << 20)
        #expect(StorageMonitor.parseByteCount("2g") == 2 << 30)
        #expect(StorageMonitor.parseByteCount("4KB") == 4096)
        #expect(StorageMonitor.parseByteCount("0") == 0)
        #expect(StorageMonitor.parseByteCount("12B") == 12)
        for bad in ["", "MiB", "-1", "1.5G", "ten", "99999999999T"] {
            #expect(StorageMonitor.parseByteCount(bad) == nil, "\(bad)")
        }
    }

    @Test func belowTheThresholdNewCallsAreRefusedWithTheFreeBytes() throws {
        let directory = try TemporaryDirectory.make("storage-monitor")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let low = StorageMonitor(
            configuration: .init(paths: [directory], minimumFreeBytes: Int64.max),
            logger: Logger(label: "test")
        )
        #expect(low.refusal == nil, "nothing known before the first check")
        low.check()
        let reason = try #require(low.refusal)
        #expect(reason.contains("below --min-free-bytes \(Int64.max)"), "\(reason)")
        #expect(low.health.degradedReason == reason && low.health.freeBytes > 0)

        let roomy = StorageMonitor(
            configuration: .init(paths: [directory], minimumFreeBytes: 0),
            logger: Logger(label: "test")
        )
        roomy.check()
        #expect(roomy.refusal == nil && roomy.health.degradedReason == nil)
    }

    @Test func aFailedWriteRefusesUntilAProbeWriteSucceeds() throws {
        let directory = try TemporaryDirectory.make("storage-monitor")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let monitor = StorageMonitor(
            configuration: .init(paths: [directory], minimumFreeBytes: 0),
            logger: Logger(label: "test")
        )
        monitor.check()
        monitor.noteWriteFailure(errno: EIO)
        let reason = try #require(monitor.refusal)
        #expect(reason.contains("EIO"), "\(reason)")
        monitor.noteWriteFailure(errno: ENOSPC)
        #expect(monitor.refusal == reason, "the first failure's reason stands until recovery")

        // The probe cannot write while the directory is gone: still refused.
        let moved = directory + "-away"
        try FileManager.default.moveItem(atPath: directory, toPath: moved)
        monitor.check()
        #expect(monitor.refusal == reason)
        try FileManager.default.moveItem(atPath: moved, toPath: directory)

        monitor.check()
        #expect(monitor.refusal == nil, "the probe wrote and synced: accepted again")
        #expect(!FileManager.default.fileExists(atPath: directory + "/.storage-probe"), "the probe file is removed")
    }
}
