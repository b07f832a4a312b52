import CallVaultModel

/// A tenant's API token: 32 random bytes, shown to the operator once, stored only as a SHA-256.
///
/// The text form is `cvt_` followed by the bytes in unpadded base64url, so secret scanners and
/// people can recognise a CallVault token in a log or a repository.
enum TenantToken {
    static let prefix = "cvt_"
    static let byteCount = 32

    /// Makes a new token and its hash; the token itself must not be stored.
    static func generate() throws(CatalogError) -> (token: String, hash: [UInt8]) {
        let token = prefix + base64URL(try CatalogHash.randomBytes(byteCount))
        return (token, hash(token))
    }

    /// The hash the catalog keeps (and looks tokens up by).
    static func hash(_ token: String) -> [UInt8] {
        CatalogHash.sha256(Array(token.utf8))
    }

    /// Unpadded base64url (RFC 4648 §5): safe in URLs, headers and shell arguments.
    static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [
                alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)],
                alphabet[Int(n & 63)],
            ]
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let n = UInt32(bytes[index]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
        } else if rest == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
