public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The two forms of a request's time that Signature Version 4 uses, in UTC: `20150830T123600Z`
/// (`X-Amz-Date`) and `20150830` (the credential scope's date).
public struct AWSTimestamp: Sendable, Equatable {
    /// ISO 8601 basic format, seconds, UTC: `YYYYMMDDTHHMMSSZ`.
    public let dateTime: String
    /// `YYYYMMDD`.
    public var date: String { String(dateTime.prefix(8)) }

    /// The timestamp of `date`, truncated to the second.
    public init(_ date: Date) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let year = String(1900 + Int(parts.tm_year))
        self.dateTime =
            year + two(parts.tm_mon + 1) + two(parts.tm_mday) + "T" + two(parts.tm_hour) + two(parts.tm_min)
            + two(parts.tm_sec) + "Z"
    }

    /// Parses `YYYYMMDDTHHMMSSZ`; nil for anything else.
    public init?(parsing text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 16, utf8[8] == UInt8(ascii: "T"), utf8[15] == UInt8(ascii: "Z"),
            (utf8[0..<8] + utf8[9..<15]).allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        self.dateTime = text
    }

    /// The moment this timestamp names.
    public var moment: Date {
        let digits = Array(dateTime.utf8).map { Int($0) - Int(UInt8(ascii: "0")) }
        func number(_ range: Range<Int>) -> Int32 { Int32(range.reduce(0) { $0 * 10 + digits[$1] }) }
        var parts = tm()
        parts.tm_year = number(0..<4) - 1900
        parts.tm_mon = number(4..<6) - 1
        parts.tm_mday = number(6..<8)
        parts.tm_hour = number(9..<11)
        parts.tm_min = number(11..<13)
        parts.tm_sec = number(13..<15)
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}
