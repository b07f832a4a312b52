#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IP address block in CIDR notation (`192.0.2.0/24`, `2001:db8::/32`, or one address): which
/// sources a tenant's SBCs send SIP from (`tenant set --sip-allow`).
public struct AddressBlock: Sendable, Equatable, CustomStringConvertible {
    /// The network address: 4 bytes (IPv4) or 16 (IPv6), host bits cleared.
    public let network: [UInt8]
    public let prefixLength: Int

    /// Parses `ADDRESS[/PREFIX]`; nil when either part is not valid.
    public init?(_ text: String) {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(pieces.count), let bytes = Self.addressBytes(String(pieces[0])) else { return nil }
        let bits = bytes.count * 8
        var prefix = bits
        if pieces.count == 2 {
            guard pieces[1].count <= 3, let n = Int(pieces[1]), (0...bits).contains(n) else { return nil }
            prefix = n
        }
        network = Self.masked(bytes, prefix: prefix)
        prefixLength = prefix
    }

    /// Whether `address` (text, as a socket reports it) lies in this block. An IPv4-mapped IPv6 address
    /// (`::ffff:192.0.2.1`) is compared as the IPv4 address it carries.
    public func contains(_ address: String) -> Bool {
        guard var bytes = Self.addressBytes(address) else { return false }
        if bytes.count == 16, network.count == 4, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            bytes = Array(bytes[12...])
        }
        guard bytes.count == network.count else { return false }
        return Self.masked(bytes, prefix: prefixLength) == network
    }

    public var description: String {
        var text = ""
        if network.count == 4 {
            text = network.map(String.init).joined(separator: ".")
        } else {
            var groups: [String] = []
            for i in stride(from: 0, to: 16, by: 2) {
                groups.append(String(UInt16(network[i]) << 8 | UInt16(network[i + 1]), radix: 16))
            }
            text = groups.joined(separator: ":")
        }
        return "\(text)/\(prefixLength)"
    }

    static func addressBytes(_ text: String) -> [UInt8]? {
        var text = text
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }  // an IPv6 zone
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    static func masked(_ bytes: [UInt8], prefix: Int) -> [UInt8] {
        var out = bytes
        for i in out.indices {
            let keep = max(0, min(8, prefix - i * 8))
            out[i] &= keep == 8 ? 0xff : UInt8(truncatingIfNeeded: 0xff << (8 - keep))
        }
        return out
    }
}
