/// What one word (or one part of a compound word) means to the number reader.
enum SpokenToken: Hashable, Sendable {
    /// Written digits, separators dropped ("4111", "12/25" → "1225").
    case digits(String)
    case unit(Int)
    case teen(Int)
    case tens(Int)
    case hundred
    case thousand
    /// The German "und" inside "einundzwanzig".
    case joiner
    /// "and" in "one hundred and five".
    case conjunction
    /// "double" (2), "triple" (3).
    case repeater(Int)
    case letter(Character)
    case plus, at, dot, dash, underscore
    case month(Int)
    case ordinal(Int)
    /// A word that sounds like a digit ("for"): a digit only between two digits of a run.
    case homophone(Int)
    /// A hesitation or self-correction that does not break a number.
    case filler
    /// A written e-mail address in one word.
    case writtenEmail
    /// Any other word, lower case, punctuation trimmed.
    case word(String)

    /// True for the tokens a run of digits and letters is made of.
    var isRunPart: Bool {
        switch self {
        case .digits, .unit, .teen, .tens, .hundred, .thousand, .joiner, .repeater, .letter, .plus: true
        default: false
        }
    }

    /// True for tokens that carry a digit themselves (not letters, not symbols).
    var isNumeric: Bool {
        switch self {
        case .digits, .unit, .teen, .tens, .hundred, .thousand: true
        default: false
        }
    }
}
