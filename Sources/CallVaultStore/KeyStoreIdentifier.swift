public import CallVaultModel

/// Checks and makes the identifiers the key store keys on: tenant ids, owner (recording) ids, key ids.
///
/// Tenant ids become directory names under `recordings/`, and every id ends up in wrap contexts and
/// error messages, so only a small, path-safe alphabet is accepted: letters, digits, `_ - . :`, first
/// character a letter or digit, at most 128 characters.
public enum KeyStoreIdentifier {
    /// Throws `invalidIdentifier` unless `value` uses the safe alphabet.
    public static func validate(_ value: String, what: String) throws(KeyStoreError) {
        let bytes = value.utf8
        guard let first = bytes.first, bytes.count <= 128, isAlphanumeric(first),
            bytes.allSatisfy({ isAlphanumeric($0) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E || $0 == 0x3A })
        else {
            throw KeyStoreError(
                .invalidIdentifier,
                "\(what) '\(value.prefix(40))' is not a valid id "
                    + "(use 1-128 of A-Z a-z 0-9 _ - . :, starting with a letter or digit)"
            )
        }
    }

    /// A new random key id: 16 random bytes as 32 lowercase hex digits.
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(32)
        for _ in 0..<16 {
            let b = UInt8.random(in: 0...255, using: &generator)
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }
}
