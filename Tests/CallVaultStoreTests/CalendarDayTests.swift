import CallVaultModel
import Testing


@Suite struct CalendarDayTests {
    @Test func parsesFormatsAndOrders() throws {
        let day = try CalendarDay("2026-11-22")
        #expect(day.year == 2026 && day.month == 11 && day.day == 22)
        #expect(day.description == "2026-11-22")
        #expect(try CalendarDay("2024-02-29").description == "2024-02-29")
        #expect(try CalendarDay("2026-01-31") < CalendarDay("2026-02-01"))
        #expect(day.adding(days: 10).description == "2026-12-02")
        #expect(day.adding(days: -365).description == "2025-11-22")
    }

    @Test(arguments: [
        "2026-02-29", "2026-13-01", "2026-00-10", "2026-1-01", "26-11-22", "2026/11/22", "", "2026-11-2x",
    ])
    func refusesNonDays(text: String) {
        #expect(errorCode { try CalendarDay(text) } == .invalidDay)
    }

    @Test func convertsUnixTime() throws {
        #expect(CalendarDay(secondsSince1970: 0).description == "1970-01-01")
        #expect(CalendarDay(secondsSince1970: 1_795_305_600).description == "2026-11-22")  // 2026-11-22T00:00:00Z
        #expect(CalendarDay(secondsSince1970: 1_795_305_599).description == "2026-11-21")
        let day = try CalendarDay("2038-01-19")
        #expect(CalendarDay(daysSince1970: day.daysSince1970) == day)
        #expect(day.daysSince1970 == 24_855)
    }
}
