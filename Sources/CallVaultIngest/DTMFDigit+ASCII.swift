public import CallVaultAudio

extension DTMFDigit {
    /// The key an ASCII byte names (`0`–`9`, `*`, `#`, `A`–`D`, lower case too), or nil.
    ///
    /// A switch on the byte, so AudioSocket's DTMF messages map to keys without building a `Character`.
    @inlinable
    public init?(ascii byte: UInt8) {
        switch byte {
        case UInt8(ascii: "0"): self = .zero
        case UInt8(ascii: "1"): self = .one
        case UInt8(ascii: "2"): self = .two
        case UInt8(ascii: "3"): self = .three
        case UInt8(ascii: "4"): self = .four
        case UInt8(ascii: "5"): self = .five
        case UInt8(ascii: "6"): self = .six
        case UInt8(ascii: "7"): self = .seven
        case UInt8(ascii: "8"): self = .eight
        case UInt8(ascii: "9"): self = .nine
        case UInt8(ascii: "*"): self = .star
        case UInt8(ascii: "#"): self = .pound
        case UInt8(ascii: "A"), UInt8(ascii: "a"): self = .a
        case UInt8(ascii: "B"), UInt8(ascii: "b"): self = .b
        case UInt8(ascii: "C"), UInt8(ascii: "c"): self = .c
        case UInt8(ascii: "D"), UInt8(ascii: "d"): self = .d
        default: return nil
        }
    }
}
