import Foundation

/// How times and durations read on the pages: UTC, to the second.
enum ConsoleFormat {
    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }

    /// `m:ss.s` for a length of time in milliseconds.
    static func duration(_ ms: Int64) -> String {
        let tenths = max(0, ms) / 100
        let seconds = tenths / 10
        return "\(seconds / 60):\(String(format: "%02d", seconds % 60)).\(tenths % 10)"
    }

    /// `0.1 s`, `6 s`: a bucket's or segment's length in milliseconds, in seconds.
    static func seconds(_ ms: Int64) -> String {
        ms % 1000 == 0 ? "\(ms / 1000) s" : String(format: "%.1f s", Double(ms) / 1000)
    }

    /// `-12.3 dBFS`: a level.
    static func dBFS(_ value: Double) -> String { String(format: "%.1f dBFS", value) }
}
