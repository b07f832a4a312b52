import CallVaultArchive
import Foundation
import Testing

@testable import CallVaultTranscribe

/// Placing the bot's own words on its track: each utterance takes the speech from a little before its
/// stated start to the next one's, words spread in order, speech nobody claimed left for the engine.
@Suite("Bot text placed on the bot track")
struct BotTextAlignerTests {
    /// 16 kHz: a 300 Hz tone wherever `speech` says (milliseconds), silence elsewhere.
    static func track(ms: Int, speech: [Range<Int>]) -> [Int16] {
        var samples = [Int16](repeating: 0, count: ms * 16)
        for range in speech {
            for index in (range.lowerBound * 16)..<(range.upperBound * 16) {
                samples[index] = Int16(8_000 * sin(2 * Double.pi * 300 * Double(index) / 16_000))
            }
        }
        return samples
    }

    @Test func utterancesTakeTheirSpeechAndLeaveTheRestForTheEngine() throws {
        let track = Self.track(ms: 12_000, speech: [1_000..<2_500, 3_500..<5_000, 7_000..<8_000])
        let placement = BotTextAligner.place(
            [
                // Arrived 400 ms after its audio began, as a late request does.
                .init(startMs: 1_400, endMs: nil, text: "Hello, how can I help?"),
                .init(startMs: 3_300, endMs: nil, text: "Your card ends in four two."),
                // Never played: the caller barged in.
                .init(startMs: 9_500, endMs: nil, text: "Anything else?"),
            ], on: track)
        #expect(placement.segments.map(\.text) == ["Hello, how can I help?", "Your card ends in four two."])
        #expect(placement.unspoken == 1)
        let first = try #require(placement.segments.first)
        let second = try #require(placement.segments.last)
        // The splitter pads speech by 100-120 ms each side.
        #expect((850...1_000).contains(first.startMs) && (2_500...2_650).contains(first.endMs), "\(first)")
        #expect((3_350...3_500).contains(second.startMs) && (5_000...5_150).contains(second.endMs), "\(second)")
        #expect(first.words.map(\.word) == ["Hello,", "how", "can", "I", "help?"])
        for segment in placement.segments {
            #expect(segment.words.allSatisfy { $0.startMs >= segment.startMs && $0.endMs <= segment.endMs && $0.startMs < $0.endMs })
            #expect(zip(segment.words, segment.words.dropFirst()).allSatisfy { $0.endMs <= $1.startMs })
        }
        // The speech at 7-8 s is nobody's: it stays for the engine, the placed speech is silenced.
        #expect((1_000...1_300).contains(placement.restSpeechMs), "\(placement.restSpeechMs)")
        #expect(placement.rest[2_000 * 16] == 0 && placement.rest[4_000 * 16] == 0)
        #expect(placement.rest[(7_500 * 16)..<(7_510 * 16)].contains { $0 != 0 })
    }

    @Test func aGivenEndStopsAnUtteranceAndTheNextTakesWhatFollows() {
        let track = Self.track(ms: 8_000, speech: [1_000..<2_000, 2_500..<3_500, 4_500..<5_500])
        let placement = BotTextAligner.place(
            [
                .init(startMs: 1_000, endMs: 2_200, text: "one two"),
                .init(startMs: 4_400, endMs: nil, text: "three"),
            ], on: track)
        #expect(placement.segments.count == 2)
        // 2.5-3.5 s begins after the first one's end and before the second's window: nobody's.
        #expect((1_000...1_300).contains(placement.restSpeechMs), "\(placement.restSpeechMs)")
        #expect(placement.segments.first.map { $0.endMs <= 2_200 } == true)
        #expect(placement.segments.last?.words.map(\.word) == ["three"])
    }

    @Test func withNoSpeechAtAllEveryUtteranceIsUnspokenAndNothingGoesToTheEngine() {
        let placement = BotTextAligner.place(
            [.init(startMs: 0, endMs: nil, text: "hello")], on: [Int16](repeating: 0, count: 16_000 * 3))
        #expect(placement.segments.isEmpty && placement.unspoken == 1 && placement.restSpeechMs == 0)
    }
}
