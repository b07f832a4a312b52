/// Joins number tokens into the digit groups a listener hears.
///
/// Digit reading and cardinals mix freely in speech, so the grammar reads greedily, group by group:
/// "four double one" → 4 11, "eleven eleven" → 11 11, "forty one" → 41, "einundzwanzig" → 21,
/// "nineteen eighty five" → 19 85, "three hundred and five" → 305, "two thousand twenty" → 2020,
/// "nineteen oh five" → 19 0 5. A repeater repeats the next group ("triple seven" → 777). Letters
/// and "+" pass through as one-character groups. Each group keeps the words it came from.
enum SpokenNumberGrammar {
    struct Group: Equatable {
        /// Digits, or one upper-case letter, or "+".
        var digits: String
        var firstWord: Int
        var lastWord: Int
    }

    typealias Item = (token: SpokenToken, word: Int)

    static func groups(_ items: [Item]) -> [Group] {
        var result: [Group] = []
        var index = 0
        var pendingRepeat: (times: Int, word: Int)?
        while index < items.count {
            let item = items[index]
            var group: Group?
            switch item.token {
            case .repeater(let times):
                pendingRepeat = (times, item.word)
                index += 1
                continue
            case .letter(let letter):
                group = Group(digits: String(letter), firstWord: item.word, lastWord: item.word)
                index += 1
            case .plus:
                group = Group(digits: "+", firstWord: item.word, lastWord: item.word)
                index += 1
            case .digits(let digits):
                group = Group(digits: digits, firstWord: item.word, lastWord: item.word)
                index += 1
            case .unit, .teen, .tens, .hundred, .thousand:
                if let (value, next) = cardinal(items, from: index) {
                    group = Group(digits: String(value), firstWord: item.word, lastWord: items[next - 1].word)
                    index = next
                } else {
                    index += 1
                }
            default:
                index += 1
            }
            guard var made = group else { continue }
            if let repetition = pendingRepeat {
                made.digits = String(repeating: made.digits, count: repetition.times)
                made.firstWord = min(made.firstWord, repetition.word)
                pendingRepeat = nil
            }
            result.append(made)
        }
        return result
    }

    /// A cardinal from `start`: below a thousand, optionally times "thousand" plus another below a
    /// thousand. Returns the value and the index after it.
    private static func cardinal(_ items: [Item], from start: Int) -> (Int, Int)? {
        guard let (head, afterHead) = belowThousand(items, from: start) else {
            if case .thousand = items[start].token { return thousandTail(items, value: 1, from: start + 1) }
            return nil
        }
        if afterHead < items.count, case .thousand = items[afterHead].token {
            return thousandTail(items, value: head, from: afterHead + 1)
        }
        return (head, afterHead)
    }

    private static func thousandTail(_ items: [Item], value: Int, from start: Int) -> (Int, Int) {
        var next = start
        if next < items.count, case .conjunction = items[next].token { next += 1 }
        if next < items.count, let (rest, after) = belowThousand(items, from: next) {
            return (value * 1000 + rest, after)
        }
        return (value * 1000, start)
    }

    /// "three hundred and five", "neunzehnhundert", "hundred", or anything `belowHundred` reads.
    private static func belowThousand(_ items: [Item], from start: Int) -> (Int, Int)? {
        var hundreds: Int?
        var next = start
        if case .hundred = items[start].token {
            hundreds = 100
            next = start + 1
        } else if start + 1 < items.count, case .hundred = items[start + 1].token {
            switch items[start].token {
            case .unit(let u) where u > 0: hundreds = u * 100
            case .teen(let t): hundreds = t * 100
            default: break
            }
            if hundreds != nil { next = start + 2 }
        }
        guard let base = hundreds else { return belowHundred(items, from: start) }
        var restStart = next
        if restStart < items.count, case .conjunction = items[restStart].token { restStart += 1 }
        if restStart < items.count, let (rest, after) = belowHundred(items, from: restStart) {
            return (base + rest, after)
        }
        return (base, next)
    }

    /// "forty one", "einundzwanzig" (unit, joiner, tens), a teen, a tens word or one digit.
    private static func belowHundred(_ items: [Item], from start: Int) -> (Int, Int)? {
        switch items[start].token {
        case .tens(let t):
            if start + 1 < items.count, case .unit(let u) = items[start + 1].token, u > 0,
                !(start + 2 < items.count && items[start + 2].token == .hundred)
            {
                return (t + u, start + 2)
            }
            return (t, start + 1)
        case .teen(let t):
            return (t, start + 1)
        case .unit(let u):
            if start + 2 < items.count, case .joiner = items[start + 1].token,
                case .tens(let t) = items[start + 2].token
            {
                return (t + u, start + 3)
            }
            return (u, start + 1)
        default:
            return nil
        }
    }
}
