import CallVaultRedaction
import Testing

@Suite struct SpokenNumberNormaliserTests {
    let normaliser = SpokenNumberNormaliser()

    func runs(_ text: String) -> [String] {
        normaliser.runs(in: CallScript.caller(text).build().words).map(\.text)
    }

    @Test(arguments: [
        ("four one one one", "4111"),
        ("four double one, 1111, eleven eleven", "41111111111"),
        ("triple seven", "777"),
        ("oh six twelve thirty four", "0612" + "34"),
        ("nineteen oh five", "1905"),
        ("forty one", "41"),
        ("three hundred and five", "305"),
        ("two thousand twenty five", "2025"),
        ("nineteen eighty five", "1985"),
        ("nought nine", "09"),
        ("plus three one six", "+316"),
        ("+31 6", "+316"),
        ("4111-1111", "41111111"),
        ("n l nine one a b n a", "NL91ABNA"),
        ("NL91 ABNA", "NL91ABNA"),
        ("november lima nine one", "NL91"),
        ("einundzwanzig", "21"),
        ("neunzehnhundertfünfundachtzig", "1985"),
        ("zweihundertdrei", "203"),
        ("null eins sieben sechs", "0176"),
        ("doppel null", "00"),
        ("vier äh zwei", "42"),
        ("four uh sorry two", "42"),
        ("eenentwintig", "21"),
        ("tweeëntwintig", "22"),
        ("negentienhonderdvijfentachtig", "1985"),
        ("nul zes twaalf", "0612"),
        ("four one one one for one one one", "41114111"),
        ("zero six to three four", "06234"),
    ])
    func readsSpokenNumbers(_ text: String, _ expected: String) {
        #expect(runs(text) == [expected])
    }

    @Test(arguments: [
        "let's meet at half past", "the appointment is at 10:30", "12.50", "a table for me", "ein Tisch",
    ])
    func findsNoDigitsInWordsAndTimes(_ text: String) {
        #expect(runs(text).allSatisfy { $0.count <= 0 })
    }

    /// Ordinary words made of number pieces' letters, and articles that are also numbers, stay words.
    @Test(arguments: ["Achtung", "einsam", "eine Karte", "een kaart", "often", "seventeenth floor", "Neuigkeit"])
    func ordinaryWordsAreNotNumbers(_ text: String) {
        #expect(runs(text).allSatisfy { $0.count <= 1 }, "\(text)")
    }

    /// "for" and "to" are digits only between digits: "for 4111" and "4111 to" stay words.
    @Test func homophonesCountOnlyBetweenDigits() {
        #expect(runs("for four one to") == ["41"])
        #expect(runs("I went to the shop for milk") == [])
    }

    @Test func anOrdinaryWordEndsARun() {
        #expect(runs("four one then two two") == ["41", "22"])
    }

    @Test func eachDigitLinksToItsWords() throws {
        let words = CallScript.caller("four double one").build().words
        let run = try #require(normaliser.runs(in: words).first)
        #expect(run.symbols.map(\.words) == [0...0, 1...2, 1...2])
        #expect(run.symbols[1].startMs == words[1].startMs && run.symbols[1].endMs == words[2].endMs)
    }

    @Test func theOtherTracksInterjectionDoesNotBreakARun() {
        let script = CallScript(
            "split",
            [(.caller, 0, "four one"), (.bot, 800, "mm-hmm okay"), (.caller, 1500, "one one")]
        )
        let runs = normaliser.runs(in: script.build().words)
        #expect(runs.map(\.text) == ["4111"])
        #expect(runs.first?.track == .caller)
    }

    @Test func aLongPauseEndsARunAndTheGapIsConfigurable() {
        let script = CallScript("pause", [(.caller, 0, "four one"), (.caller, 4000, "one one")])
        #expect(normaliser.runs(in: script.build().words).map(\.text) == ["41", "11"])
        let patient = SpokenNumberNormaliser(configuration: .init(maxRunGapMs: 5_000))
        #expect(patient.runs(in: script.build().words).map(\.text) == ["4111"])
    }

    @Test func descriptionsNeverShowTheDigits() throws {
        let run = try #require(normaliser.runs(in: CallScript.caller("4111 1111").build().words).first)
        #expect(!String(describing: run).contains("4111"))
        #expect(!String(describing: run.symbols).contains("4"))
    }
}
