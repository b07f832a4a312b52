/// A DTMF key: one row (low-group) frequency plus one column (high-group) frequency, ITU-T Q.23.
///
/// ```
///            1209 Hz  1336 Hz  1477 Hz  1633 Hz
///   697 Hz     1        2        3        A
///   770 Hz     4        5        6        B
///   852 Hz     7        8        9        C
///   941 Hz     *        0        #        D
/// ```
/// The raw value is the key's character, as it appears in consent prompts and audit events.
public enum DTMFDigit: Character, Sendable, CaseIterable, CustomStringConvertible {
    case one = "1", two = "2", three = "3", a = "A"
    case four = "4", five = "5", six = "6", b = "B"
    case seven = "7", eight = "8", nine = "9", c = "C"
    case star = "*", zero = "0", pound = "#", d = "D"

    /// Low-group frequencies in Hz, top row first (Q.23).
    public static let rowFrequencies: [Double] = [697, 770, 852, 941]
    /// High-group frequencies in Hz, left column first (Q.23).
    public static let columnFrequencies: [Double] = [1209, 1336, 1477, 1633]

    /// The key at `row` (0...3) and `column` (0...3) of the keypad; a switch, so it never allocates.
    @inlinable
    public init(row: Int, column: Int) {
        precondition((0..<4).contains(row) && (0..<4).contains(column), "DTMF row and column are 0...3")
        switch row &* 4 &+ column {
        case 0: self = .one
        case 1: self = .two
        case 2: self = .three
        case 3: self = .a
        case 4: self = .four
        case 5: self = .five
        case 6: self = .six
        case 7: self = .b
        case 8: self = .seven
        case 9: self = .eight
        case 10: self = .nine
        case 11: self = .c
        case 12: self = .star
        case 13: self = .zero
        case 14: self = .pound
        default: self = .d
        }
    }

    /// Keypad row, 0 (697 Hz) ... 3 (941 Hz).
    public var row: Int { keypadIndex / 4 }
    /// Keypad column, 0 (1209 Hz) ... 3 (1633 Hz).
    public var column: Int { keypadIndex % 4 }

    var keypadIndex: Int {
        switch self {
        case .one: 0
        case .two: 1
        case .three: 2
        case .a: 3
        case .four: 4
        case .five: 5
        case .six: 6
        case .b: 7
        case .seven: 8
        case .eight: 9
        case .nine: 10
        case .c: 11
        case .star: 12
        case .zero: 13
        case .pound: 14
        case .d: 15
        }
    }

    public var description: String { String(rawValue) }
}
