/// A `c=<nettype> <addrtype> <address>` line: where the media comes from (session level or per stream).
public struct SDPConnection: Sendable, Equatable {
    public var networkType: String
    public var addressType: String
    /// The address, with any `/ttl/count` suffix removed.
    public var address: String

    static func parse(_ value: Substring) -> SDPConnection? {
        let pieces = value.split(separator: " ")
        guard pieces.count == 3 else { return nil }
        let address = pieces[2].split(separator: "/").first.map(String.init) ?? ""
        guard !address.isEmpty else { return nil }
        return SDPConnection(networkType: String(pieces[0]), addressType: String(pieces[1]), address: address)
    }
}
