import CallVaultRedaction
import Testing

/// Every fixture, one test case each: each expected entity is covered by a span of its kind, and
/// nothing else is redacted.
@Suite struct FixtureTests {
    let detector = RedactionDetector()

    @Test(arguments: SensitiveFixtures.all + VariantFixtures.sensitive + DutchFixtures.sensitive + WhisperOutputFixtures.sensitive)
    func sensitiveFixtureIsRedactedExactly(_ script: CallScript) {
        let (words, expected) = script.build()
        let spans = detector.detect(words)
        for entity in expected {
            let kinds = entity.words.map { index in
                spans.first { $0.track == entity.track && $0.words.contains(index) }?.kind
            }
            #expect(kinds.allSatisfy { $0 == entity.kind }, "\(script.name): \(entity.kind) got \(kinds)")
        }
        let stray = spans.filter { span in
            !expected.contains { $0.track == span.track && $0.words.contains { span.words.contains($0) } }
        }
        #expect(stray.isEmpty, "\(script.name): unexpected \(stray.map(\.kind))")
    }

    @Test(arguments: HarmlessFixtures.all + VariantFixtures.harmless + DutchFixtures.harmless)
    func harmlessFixtureKeepsItsNumbers(_ script: CallScript) {
        var score = FixtureScore()
        score.add(script, detector: detector)
        #expect(score.falsePositives.isEmpty, "\(score.problems)")
        #expect(score.missed.isEmpty, "\(score.problems)")
    }

    /// The recall/precision table over all fixtures, printed for the record (figures, not gates,
    /// except that no payment audio may leak).
    @Test func recallAndPrecisionTable() {
        var leaked = 0
        for (title, sensitive, harmless) in [
            ("first set", SensitiveFixtures.all, HarmlessFixtures.all),
            ("variant set", VariantFixtures.sensitive, VariantFixtures.harmless),
            ("third set", HeldOutFixtures.sensitive, HeldOutFixtures.harmless),
            ("Dutch set", DutchFixtures.sensitive, DutchFixtures.harmless),
        ] {
            var score = FixtureScore()
            for script in sensitive + harmless { score.add(script, detector: detector) }
            let redactedHarmless = harmless.filter { script in
                var single = FixtureScore()
                single.add(script, detector: detector)
                return !single.falsePositives.isEmpty
            }
            print("Redaction fixtures, \(title) (\(sensitive.count) sensitive, \(harmless.count) harmless calls)")
            print(score.table())
            print("harmless calls with anything redacted: \(redactedHarmless.count) of \(harmless.count)")
            print(score.problems.map { "  - " + $0 }.joined(separator: "\n") + "\n")
            if title != "third set" { leaked += score.leakedPaymentMs }
        }
        #expect(leaked == 0)
    }
}

extension CallScript: CustomTestStringConvertible {
    var testDescription: String { name }
}
