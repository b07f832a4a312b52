public import CallVaultSIP

/// The master key of one SDES `a=crypto` line: suite, key, salt and MKI (RFC 4568 §9.1,
/// `inline:<base64 key||salt>[|<lifetime>][|<MKI>:<length>]`).
///
/// Holds the key bytes: never logged, never put in an error; ``description`` says only the suite.
public struct SRTPKeyParameters: Sendable, CustomStringConvertible {
    public var suite: SRTPCryptoSuite
    /// 16 bytes.
    public var masterKey: [UInt8]
    /// 14 bytes.
    public var masterSalt: [UInt8]
    /// The MKI value and its length in bytes, if the line gave one (0 length: no MKI in packets).
    public var mki: UInt64 = 0
    public var mkiLength = 0

    public init(suite: SRTPCryptoSuite, masterKey: [UInt8], masterSalt: [UInt8], mki: UInt64 = 0, mkiLength: Int = 0)
        throws(SRTPError)
    {
        guard masterKey.count == SRTPCryptoSuite.masterKeyLength, masterSalt.count == SRTPCryptoSuite.masterSaltLength
        else { throw .wrongKeyLength(masterKey.count + masterSalt.count) }
        self.suite = suite
        self.masterKey = masterKey
        self.masterSalt = masterSalt
        self.mki = mki
        self.mkiLength = mkiLength
    }

    /// The key of an `a=crypto` line: its suite, its first key parameter, its session parameters
    /// checked (KDR other than 0 and the UNENCRYPTED/UNAUTHENTICATED options are refused).
    public init(crypto: SDPCrypto) throws(SRTPError) {
        let suite = try SRTPCryptoSuite(name: crypto.suite)
        for parameter in crypto.sessionParams {
            let upper = parameter.uppercased()
            if upper.hasPrefix("KDR=") {
                guard upper == "KDR=0" else { throw .unsupportedSessionParameter(parameter) }
            } else if upper.hasPrefix("UNENCRYPTED") || upper.hasPrefix("UNAUTHENTICATED") {
                throw .unsupportedSessionParameter(parameter)
            }
        }
        guard let first = crypto.keyParams.first else { throw .invalidKeyParameter(reason: "no key parameter") }
        try self.init(suite: suite, inline: first)
    }

    /// Parses `inline:<base64>[|lifetime][|MKI:length]` for `suite`.
    public init(suite: SRTPCryptoSuite, inline keyParameter: String) throws(SRTPError) {
        guard keyParameter.lowercased().hasPrefix("inline:") else {
            throw .invalidKeyParameter(reason: "only the inline key method is defined (RFC 4568 §6.1)")
        }
        let fields = keyParameter.dropFirst("inline:".count).split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count <= 3 else { throw .invalidKeyParameter(reason: "more than key, lifetime and MKI") }
        guard let bytes = Base64.decode(fields[0]) else {
            throw .invalidKeyParameter(reason: "the key is not valid base64")
        }
        guard bytes.count == SRTPCryptoSuite.masterKeyLength + SRTPCryptoSuite.masterSaltLength else {
            throw .wrongKeyLength(bytes.count)
        }
        var mki: UInt64 = 0
        var mkiLength = 0
        for field in fields.dropFirst() {
            if let colon = field.firstIndex(of: ":") {
                guard let value = UInt64(field[..<colon]), let length = Int(field[field.index(after: colon)...]),
                    (1...8).contains(length), length == 8 || value < (1 << (8 * UInt64(length)))
                else { throw .invalidKeyParameter(reason: "the MKI is not <value>:<length 1...8>") }
                mki = value
                mkiLength = length
            } else {
                guard Self.validLifetime(field) else {
                    throw .invalidKeyParameter(reason: "the lifetime is not a number or 2^n")
                }
            }
        }
        try self.init(
            suite: suite, masterKey: Array(bytes[0..<16]), masterSalt: Array(bytes[16..<30]), mki: mki,
            mkiLength: mkiLength)
    }

    /// A lifetime is `2^n` (n ≤ 48, the SRTP index's size) or a decimal count. It is not enforced
    /// beyond parsing: a call never reaches 2^31 packets, and rekeying needs a re-INVITE anyway.
    static func validLifetime(_ field: Substring) -> Bool {
        if field.hasPrefix("2^") {
            guard let n = Int(field.dropFirst(2)) else { return false }
            return (1...48).contains(n)
        }
        return UInt64(field) != nil
    }

    public var description: String { "SRTP key (\(suite.rawValue), key and salt withheld)" }
}
