import Foundation
import NIOCore

/// How many event loops `serve` runs: one per CPU this process may run on.
///
/// NIO sizes its shared event-loop group by ``System/coreCount``, which follows cgroup quotas and
/// cpusets but not the affinity mask `taskset` or `numactl` set. A server pinned to one core with two
/// loops pays for two threads taking turns on it: each wakes, reads one message and sleeps again. So
/// the count is the smaller of NIO's and the affinity mask's.
enum ProcessorAffinity {
    /// CPUs in this process's affinity mask (the `Cpus_allowed` hex mask of `/proc/self/status`), or nil
    /// where there is none to read.
    static var allowedCPUCount: Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return allowedCPUCount(status: status)
    }

    /// The CPUs of a `/proc/PID/status` text's `Cpus_allowed:` line (hex words separated by commas).
    static func allowedCPUCount(status: String) -> Int? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else { return nil }
        var count = 0
        for character in line.dropFirst("Cpus_allowed:".count) where character != "," && character != " " && character != "\t" {
            guard let nibble = character.hexDigitValue else { return nil }
            count += nibble.nonzeroBitCount
        }
        return count > 0 ? count : nil
    }

    /// The event loops to run: `requested` when given, else one per usable CPU.
    static func eventLoopCount(requested: Int?) -> Int {
        if let requested { return requested }
        return min(System.coreCount, allowedCPUCount ?? System.coreCount)
    }
}
