import CallVaultAudio
import Testing

@testable import CallVaultRTP

@Suite struct TelephoneEventTests {
    @Test func mapsEventsToKeys() {
        let expected: [DTMFDigit] = [.zero, .one, .two, .three, .four, .five, .six, .seven, .eight, .nine, .star, .pound, .a, .b, .c, .d]
        for (code, digit) in expected.enumerated() {
            #expect(TelephoneEvent(event: UInt8(code), isEnd: false, duration: 0).digit == digit)
        }
        #expect(TelephoneEvent(event: 16, isEnd: false, duration: 0).digit == nil)
    }

    @Test func parsesThePayload() {
        let payload: [UInt8] = [5, 0x8A, 0x03, 0x20]
        let event = payload.withUnsafeBytes { TelephoneEvent(payload: $0) }
        #expect(event == TelephoneEvent(event: 5, isEnd: true, volume: 10, duration: 800))
        #expect([UInt8](repeating: 0, count: 3).withUnsafeBytes { TelephoneEvent(payload: $0) } == nil)
    }

    @Test func reportsOncePerEvent() {
        var decoder = TelephoneEventDecoder()
        var reported: [DTMFDigit] = []
        // "1": start, two updates, three ends; "2": ends only (starts lost); "1" again, a new press.
        let packets: [(UInt8, Bool, UInt32)] = [
            (1, false, 1000), (1, false, 1000), (1, false, 1000), (1, true, 1000), (1, true, 1000), (1, true, 1000),
            (2, true, 3000), (2, true, 3000), (2, true, 3000),
            (1, false, 5000), (1, true, 5000),
            (1, true, 1000),  // a late, reordered end of the first press
        ]
        for (code, end, ts) in packets {
            if let digit = decoder.decode(TelephoneEvent(event: code, isEnd: end, duration: 160), timestamp: ts) {
                reported.append(digit)
            }
        }
        #expect(reported == [.one, .two, .one])
    }

    @Test func endOnlyFloodIsCheapAndReportsOnce() {
        var decoder = TelephoneEventDecoder()
        var count = 0
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for _ in 0..<1_000_000 {
                if decoder.decode(TelephoneEvent(event: 9, isEnd: true, duration: 800), timestamp: 42) != nil { count += 1 }
            }
        }
        #expect(count == 1)
        #expect(elapsed < .seconds(2))
    }
}
