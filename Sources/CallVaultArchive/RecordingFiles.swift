public import CallVaultModel
public import CallVaultStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a recording's sealed part files live in a data directory.
///
/// Part 0 is `recordings/<tenant>/<yyyy-mm-dd>/<recordingID>.cvr` (the catalog row's `path`, relative
/// to the data directory); part k ≥ 1, started when a recording continues after a crash, lies beside
/// it as `<recordingID>.part<k>.cvr` — the names the retention sweeper probes when it shreds.
public enum RecordingFiles {
    /// The catalog `path` of a new recording: relative to the data directory.
    public static func relativePath(tenantID: String, day: CalendarDay, recordingID: String) -> String {
        "recordings/\(tenantID)/\(day)/\(recordingID).cvr"
    }

    /// The absolute (or working-directory relative) path of a catalog `path`.
    public static func resolve(_ path: String, in dataDirectory: DataDirectory) -> String {
        dataDirectory.resolve(path)
    }

    /// The path of part `part` of the recording whose part 0 is at `firstPart`.
    public static func partPath(firstPart: String, part: Int) -> String {
        guard part > 0 else { return firstPart }
        let stem = firstPart.hasSuffix(".cvr") ? String(firstPart.dropLast(4)) : firstPart
        return "\(stem).part\(part).cvr"
    }

    /// The part files that exist, in part order, stopping at the first missing number.
    ///
    /// Probed by name (`lstat`), so the cost does not grow with the number of files in the folder.
    public static func existingParts(firstPart: String) -> [String] {
        var parts: [String] = []
        while true {
            let path = partPath(firstPart: firstPart, part: parts.count)
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { break }
            parts.append(path)
        }
        return parts
    }

    /// The size in bytes of a file, or 0 if it cannot be read.
    package static func size(of path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Int64(info.st_size)
    }
}
