import CallVaultCrypto

/// The canonical forms of a request's parts, and the URI encoding that both the canonical request and
/// the sent URL use.
extension SigV4Signer {
    /// `value` URI-encoded as SigV4 requires: every byte of its UTF-8 except the unreserved
    /// `A–Z a–z 0–9 - . _ ~` becomes `%XY` (uppercase hex); `/` is kept when `keepingSlash`.
    public static func uriEncode(_ value: String, keepingSlash: Bool = false) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepingSlash:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The decoded form of a `%XY`-encoded text (query parameters as they arrive); nil when a `%` is
    /// not followed by two hex digits or the bytes are not UTF-8. `+` stays `+`.
    public static func uriDecode(_ value: String) -> String? {
        var out: [UInt8] = []
        var bytes = Array(value.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard bytes.count >= 2, let high = Hex.value(bytes.removeFirst()), let low = Hex.value(bytes.removeFirst())
            else { return nil }
            out.append(high << 4 | low)
        }
        return String(validating: out, as: UTF8.self)
    }

    /// The path as sent in a URL: each segment encoded, slashes kept (S3's object keys as they are).
    public static func encodedPath(_ path: String) -> String { uriEncode(path, keepingSlash: true) }

    /// The query as sent in a URL, in the canonical order.
    public static func encodedQuery(_ query: [SigV4Request.Field]) -> String { canonicalQuery(query) }

    /// The canonical path: in the ``Profile/standard`` profile without `.` and `..` segments and
    /// repeated slashes (a trailing slash kept), in ``Profile/s3`` as it is; then encoded.
    func canonicalPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        guard profile == .standard else { return Self.encodedPath(path) }
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        var normalized = "/" + segments.joined(separator: "/")
        if !segments.isEmpty, path.hasSuffix("/") { normalized += "/" }
        return Self.encodedPath(normalized)
    }

    /// `name=value` pairs, each side encoded, sorted by name then value (byte order), joined by `&`.
    static func canonicalQuery(_ query: [SigV4Request.Field]) -> String {
        query.map { (Array(uriEncode($0.name).utf8), Array(uriEncode($0.value).utf8)) }
            .sorted { $0.0 == $1.0 ? $0.1.lexicographicallyPrecedes($1.1) : $0.0.lexicographicallyPrecedes($1.0) }
            .map { String(decoding: $0.0 + [UInt8(ascii: "=")] + $0.1, as: UTF8.self) }
            .joined(separator: "&")
    }

    /// The canonical headers block (`name:value\n` per header name, lowercase, sorted; the values of a
    /// repeated name joined by `,` in their order; each value trimmed and its runs of white space,
    /// line breaks included, made one space) and the signed header names (`a;b;c`).
    static func canonicalHeaders(_ headers: [SigV4Request.Field]) -> (block: String, signed: String) {
        var names: [String] = []
        var values: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased()
            if values[name] == nil { names.append(name) }
            values[name, default: []].append(normalizedHeaderValue(header.value))
        }
        names.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let block = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    private static func normalizedHeaderValue(_ value: String) -> String {
        var out: [UInt8] = []
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
                || byte == UInt8(ascii: "\n")
            {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace { out.append(UInt8(ascii: " ")) }
            pendingSpace = false
            out.append(byte)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
