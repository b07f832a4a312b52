import CallVaultRedaction

/// A scripted call: lines per track with a start time, turned into word-timestamp fixtures the way
/// an engine would give them (one segment per line, 300 ms per word, 50 ms between words).
///
/// Expected entities are marked inline: `{card: 4111 1111}` marks those words as a card number;
/// `{card#a: …}` on two lines marks one entity split across utterances.
struct CallScript: Sendable {
    struct Expected: Sendable, Hashable {
        var kind: RedactionEntityKind
        var track: RedactionTrack
        var words: Set<Int>
    }

    struct Line: Sendable {
        var track: RedactionTrack
        var startMs: Int
        var text: String
    }

    static let wordMs = 300
    static let stepMs = 350

    let name: String
    let lines: [Line]

    init(_ name: String, _ lines: [(RedactionTrack, Int, String)]) {
        self.name = name
        self.lines = lines.map { Line(track: $0.0, startMs: $0.1, text: $0.2) }
    }

    static let kinds: [String: RedactionEntityKind] = [
        "card": .cardNumber, "cvv": .securityCode, "expiry": .expiryDate, "iban": .iban, "account": .accountNumber,
        "phone": .phoneNumber, "email": .email, "id": .nationalID, "dob": .dateOfBirth,
    ]

    /// The words in transcript order (by start time, caller first on a tie) and the expected entities.
    func build() -> (words: [RedactionWord], expected: [Expected]) {
        // A label without "#" names one entity per line; "card#a" joins lines into one entity.
        var timed: [(word: RedactionWord, label: String?)] = []
        for (segment, line) in lines.enumerated() {
            var label: String?
            var position = 0
            for raw in line.text.split(separator: " ") {
                var text = Substring(raw)
                if text.hasPrefix("{") {
                    label = String(text.dropFirst().dropLast())
                    if label?.contains("#") == false { label! += "#line\(segment)-\(position)" }
                    continue
                }
                let closes = text.hasSuffix("}")
                if closes { text = text.dropLast() }
                let start = line.startMs + position * Self.stepMs
                timed.append(
                    (
                        RedactionWord(
                            text: String(text),
                            startMs: start,
                            endMs: start + Self.wordMs,
                            track: line.track,
                            source: .init(segment: segment, word: position)
                        ), label
                    )
                )
                position += 1
                if closes { label = nil }
            }
        }
        timed.sort {
            ($0.word.startMs, $0.word.track == .caller ? 0 : 1) < ($1.word.startMs, $1.word.track == .caller ? 0 : 1)
        }
        var expected: [String: Expected] = [:]
        for (index, item) in timed.enumerated() {
            guard let label = item.label else { continue }
            let kindName = String(label.prefix { $0 != "#" })
            guard let kind = Self.kinds[kindName] else { fatalError("unknown kind \(kindName) in \(name)") }
            expected[label, default: Expected(kind: kind, track: item.word.track, words: [])].words.insert(index)
        }
        return (timed.map(\.word), Array(expected.values))
    }
}

extension CallScript {
    /// A one-line caller script.
    static func caller(_ text: String) -> CallScript { CallScript(text, [(.caller, 0, text)]) }
}
