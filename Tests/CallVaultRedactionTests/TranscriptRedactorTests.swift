import CallVaultRedaction
import Foundation
import Testing

@Suite struct TranscriptRedactorTests {
    let detector = RedactionDetector()

    @Test func coveredWordsBecomeOnePlaceholder() {
        let words = CallScript.caller("my card is 4111 1111 1111 1111 thanks").build().words
        let redacted = detector.redact(words)
        #expect(redacted.words.map(\.text) == ["my", "card", "is", "[CARD]", "thanks"])
        let placeholder = redacted.words[3]
        #expect(placeholder.startMs == words[3].startMs && placeholder.endMs == words[6].endMs)
        #expect(placeholder.words == 3...6 && placeholder.kind == .cardNumber)
    }

    @Test func aSpanOverTwoUtterancesGivesOnePlaceholderEachAndKeepsTheBot() {
        let script = CallScript(
            "split",
            [
                (.caller, 0, "it's 4111 1111 uh"), (.bot, 1800, "mm-hmm"), (.caller, 3100, "1111 1111"),
            ]
        )
        let redacted = detector.redact(script.build().words)
        #expect(redacted.words.map(\.text) == ["it's", "[CARD]", "mm-hmm", "[CARD]"])
        #expect(redacted.words.map(\.track) == [.caller, .caller, .bot, .caller])
        #expect(
            redacted.words[1].sources == RedactionWord.Source(
                segment: 0,
                word: 1
            )...RedactionWord.Source(segment: 0, word: 3)
        )
        #expect(redacted.manifest.spans.count == 1)
    }

    @Test func eachKindHasItsPlaceholder() {
        let script = CallScript(
            "several",
            [
                (.caller, 0, "mail jan at example dot com"), (.bot, 3000, "and your security code"),
                (.caller, 5000, "123"),
            ]
        )
        let texts = detector.redact(script.build().words).words.map(\.text)
        #expect(texts == ["mail", "[EMAIL]", "and", "your", "security", "code", "[CVV]"])
    }

    @Test func categoriesNotAskedForAreKept() {
        let words = CallScript.caller("card 4111 1111 1111 1111 mail jan at example dot com").build().words
        let contactOnly = RedactionDetector(configuration: .init(categories: [.contact]))
        #expect(contactOnly.detect(words).map(\.kind) == [.email])
        #expect(contactOnly.redact(words).manifest.categories == [.contact])
        #expect(RedactionDetector(configuration: .init(categories: [])).detect(words).isEmpty)
    }

    @Test func theManifestHoldsNoValues() throws {
        let words = CallScript.caller("card 4111 1111 1111 1111 iban NL91 ABNA 0417 1643 00 mail jan@example.com")
            .build().words
        let redacted = detector.redact(words)
        #expect(redacted.manifest.counts == [.cardNumber: 1, .iban: 1, .email: 1])
        let json = String(decoding: try JSONEncoder().encode(redacted.manifest), as: UTF8.self)
        for value in ["4111", "1111", "NL91", "ABNA", "0417", "jan", "example"] { #expect(!json.contains(value)) }
        let decoded = try JSONDecoder().decode(RedactionManifest.self, from: Data(json.utf8))
        #expect(decoded == redacted.manifest)
        #expect(json.contains("\"category\":\"payment\""))
        let shown = String(describing: redacted.manifest) + String(describing: redacted.words.filter(\.isPlaceholder))
        for value in ["4111", "NL91", "jan@"] { #expect(!shown.contains(value)) }
    }

    @Test func checkDigitsOnlyLabel() {
        let valid = detector.detect(CallScript.caller("4111 1111 1111 1111").build().words)
        let misheard = detector.detect(CallScript.caller("4111 1111 1111 1112").build().words)
        #expect(valid.map(\.check) == [.valid] && misheard.map(\.check) == [.invalid])
        #expect(misheard.map(\.kind) == [.cardNumber])
    }

    @Test func policyNames() {
        #expect(RedactionCategory(policyName: "pci") == .payment)
        #expect(RedactionCategory(policyName: "contact") == .contact)
        #expect(RedactionCategory(policyName: "none") == nil)
    }
}
