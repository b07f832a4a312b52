/// Who a wrapped key belongs to: authenticated as associated data by every key wrap.
///
/// Because the context is authenticated, a wrapped key copied to another tenant's row, another key id
/// or another purpose fails to unwrap. The encoding is length-prefixed so that no two different
/// contexts share bytes (`("ab","c")` and `("a","bc")` differ).
public struct KeyContext: Sendable, Equatable, Hashable {
    /// The tenant that owns the key.
    public var tenantID: String
    /// The id of the wrapped key itself (e.g. a recording id for a data key, a day-key id).
    public var keyID: String
    /// What the key is for, e.g. "tenant", "day:voice", "dek:voice", "hold".
    public var purpose: String

    public init(tenantID: String, keyID: String, purpose: String) {
        self.tenantID = tenantID
        self.keyID = keyID
        self.purpose = purpose
    }

    /// `"callvault key context v1"` then each field as `u32 big-endian length ‖ UTF-8 bytes`.
    public var encoded: [UInt8] {
        var out = Array("callvault key context v1".utf8)
        for field in [tenantID, keyID, purpose] {
            let bytes = Array(field.utf8)
            let n = UInt32(truncatingIfNeeded: bytes.count)
            out += [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
            out += bytes
        }
        return out
    }
}
