public import Foundation

/// Time-based one-time passwords (RFC 6238): HOTP (RFC 4226) over HMAC-SHA1 of the number of 30-second
/// steps since the Unix epoch, the scheme authenticator apps use for a console's second factor.
///
/// The secret is key material: it lives in a ``SecretKey`` and this type has no description that shows
/// it. The HMAC is libcrypto's (``HMACSHA1``).
public struct TOTP: Sendable {
    /// A new secret's length: 160 bits, the HMAC-SHA1 output size RFC 4226 recommends.
    public static let secretByteCount = 20
    /// Seconds per step (RFC 6238's default, and what authenticator apps assume).
    public static let stepSeconds: Int64 = 30
    /// Digits of a code in use (the vector check of RFC 6238 Appendix B uses 8).
    public static let digits = 6

    public let secret: SecretKey

    public init(secret: SecretKey) { self.secret = secret }

    /// A TOTP over a fresh random secret (`RAND_bytes`).
    public static func generate() throws(CryptoError) -> TOTP {
        TOTP(secret: try SecretKey(randomByteCount: secretByteCount))
    }

    /// The step `date` falls in: `floor(unix time / 30)`.
    public static func step(at date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / Double(stepSeconds)).rounded(.down))
    }

    /// The code of `step`: HMAC-SHA1 of the step as 8 big-endian bytes, dynamically truncated (RFC 4226
    /// §5.3) to `digits` decimal digits with leading zeros.
    public func code(step: Int64, digits: Int = TOTP.digits) -> String {
        precondition((1...9).contains(digits), "a TOTP code has 1 to 9 digits")
        var counter = UInt64(bitPattern: step).bigEndian
        var tag = [UInt8](repeating: 0, count: HMACSHA1.tagLength)
        secret.withUnsafeBytes { key in
            let mac = HMACSHA1(key: key)
            withUnsafeBytes(of: &counter) { message in
                tag.withUnsafeMutableBytes { mac.authenticate(message, UnsafeRawBufferPointer(start: nil, count: 0), into: $0) }
            }
        }
        let offset = Int(tag[HMACSHA1.tagLength - 1] & 0x0F)
        let binary =
            (UInt32(tag[offset] & 0x7F) << 24) | (UInt32(tag[offset + 1]) << 16) | (UInt32(tag[offset + 2]) << 8)
            | UInt32(tag[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let text = String(binary % modulus)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// The step within `window` steps of `step` whose code is `code` (compared in constant time, every
    /// candidate checked), or nil. With the default window a code is accepted for 30 s either side of
    /// its own step, for clocks that drift and codes typed at a step's end.
    public func matchingStep(_ code: String, around step: Int64, window: Int64 = 1) -> Int64? {
        guard code.utf8.count == Self.digits, code.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        var found: Int64?
        for candidate in (step - window)...(step + window) {
            if ConstantTime.equals(Array(self.code(step: candidate).utf8), Array(code.utf8)), found == nil {
                found = candidate
            }
        }
        return found
    }

    /// The `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=ISSUER` URI an authenticator app scans (as a QR
    /// code) or takes pasted; it carries the secret, so it is shown once and never logged.
    public func uri(account: String, issuer: String = "CallVault") -> String {
        let secretText = secret.withUnsafeBytes { Base32.encode($0) }
        let label = Self.escape(issuer) + ":" + Self.escape(account)
        return "otpauth://totp/\(label)?secret=\(secretText)&issuer=\(Self.escape(issuer))"
    }

    /// The secret in base32, for typing into an authenticator app by hand.
    public var base32Secret: String { secret.withUnsafeBytes { Base32.encode($0) } }

    private static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~@")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
