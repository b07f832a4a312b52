#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A UTC calendar day, written `yyyy-mm-dd`: the unit of expiry for day keys and of the recordings layout.
///
/// A day rather than an instant because one day key covers everything that expires that day, so that
/// one key deletion shreds all of it; UTC so that every process agrees which day it is.
public struct CalendarDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Creates a day from its parts, refusing impossible dates (2026-02-30).
    public init(year: Int, month: Int, day: Int) throws(KeyStoreError) {
        guard (1970...9999).contains(year), (1...12).contains(month),
            (1...CalendarDay.daysIn(month: month, year: year)).contains(day)
        else {
            throw KeyStoreError(.invalidDay, "\(year)-\(month)-\(day) is not a calendar day (expected yyyy-mm-dd)")
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `yyyy-mm-dd` exactly (10 characters, zero-padded).
    public init(_ text: String) throws(KeyStoreError) {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for b in bytes[range] {
                guard b >= 0x30, b <= 0x39 else { return nil }
                value = value * 10 + Int(b - 0x30)
            }
            return value
        }
        guard bytes.count == 10, bytes[4] == 0x2D, bytes[7] == 0x2D,
            let y = number(0..<4), let m = number(5..<7), let d = number(8..<10)
        else {
            throw KeyStoreError(.invalidDay, "'\(text)' is not a day (expected yyyy-mm-dd, e.g. 2026-11-22)")
        }
        try self.init(year: y, month: m, day: d)
    }

    /// The UTC day that contains `secondsSince1970`.
    public init(secondsSince1970: Int64) {
        let days = secondsSince1970 >= 0 ? secondsSince1970 / 86_400 : (secondsSince1970 - 86_399) / 86_400
        self.init(daysSince1970: days)
    }

    /// The UTC day `daysSince1970` days after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    public init(daysSince1970: Int64) {
        let z = daysSince1970 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = Int(yoe + era * 400 + (m <= 2 ? 1 : 0))
        self.month = Int(m)
        self.day = Int(d)
    }

    /// Today in UTC, by the system clock.
    public static func today() -> CalendarDay {
        CalendarDay(secondsSince1970: Int64(time(nil)))
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    public var daysSince1970: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The day `count` days later (earlier when negative).
    public func adding(days count: Int) -> CalendarDay {
        CalendarDay(daysSince1970: daysSince1970 + Int64(count))
    }

    /// `yyyy-mm-dd`, the form stored in the key store and used in directory names.
    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (lhs: CalendarDay, rhs: CalendarDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
