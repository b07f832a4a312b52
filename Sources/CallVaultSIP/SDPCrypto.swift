/// An SDES `a=crypto:<tag> <suite> <key-params> [<session-params>]` line (RFC 4568 §9.1), kept as
/// fields: the SRTP layer decides what it supports; a line that does not parse is kept in
/// ``SDPMedia/attributes`` only, so the answer can refuse the stream rather than fall back to RTP.
public struct SDPCrypto: Sendable, Equatable {
    public var tag: Int
    /// `AES_CM_128_HMAC_SHA1_80`, …, as written.
    public var suite: String
    /// Each `inline:<key||salt>[|lifetime][|MKI:length]`, as written (several are allowed).
    public var keyParams: [String]
    public var sessionParams: [String]

    static func parse(_ value: Substring) -> SDPCrypto? {
        let pieces = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard pieces.count >= 3, pieces[0].count <= 9, let tag = Int(pieces[0]), tag >= 0 else { return nil }
        let keys = pieces[2].split(separator: ";").map(String.init)
        guard !keys.isEmpty else { return nil }
        return SDPCrypto(
            tag: tag,
            suite: String(pieces[1]),
            keyParams: keys,
            sessionParams: pieces.dropFirst(3).map(String.init)
        )
    }
}
