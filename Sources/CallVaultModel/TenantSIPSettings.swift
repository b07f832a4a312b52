import Foundation

/// How a tenant's SIP calls reach CallVault (`tenant set --sip-allow`, `--sip-tenant-address`): who may
/// send them, and which SIPREC participant is the tenant's own side. Stored as one JSON column.
public struct TenantSIPSettings: Sendable, Equatable, Codable {
    /// The address blocks its SBCs and PBXs may send SIP from (`INVITE sip:TENANT@…`): none by default,
    /// so no SIP call reaches a tenant until its operator names them.
    public var allow: [AddressBlock]
    /// The tenant's own AORs or domains (`acme.example`, `sip:ivr@acme.example`): the participant that
    /// matches none of them is the customer. Empty: the SDP's first stream is the customer (label order,
    /// the usual SBC convention).
    public var tenantAddresses: [String]

    public init(allow: [AddressBlock] = [], tenantAddresses: [String] = []) {
        self.allow = allow
        self.tenantAddresses = tenantAddresses
    }

    public var isEmpty: Bool { allow.isEmpty && tenantAddresses.isEmpty }

    /// Whether a SIP request from `address` may reach this tenant.
    public func allows(_ address: String) -> Bool { allow.contains { $0.contains(address) } }

    public func validate() throws(CatalogError) {
        guard allow.count <= 64, tenantAddresses.count <= 64 else {
            throw CatalogError(.invalidPolicy, "at most 64 SIP address blocks and 64 tenant SIP addresses")
        }
        for address in tenantAddresses
        where address.isEmpty || address.utf8.count > 256 || address.contains(where: { $0.isWhitespace || $0 == "," }) {
            throw CatalogError(
                .invalidPolicy, "a tenant SIP address must be a SIP URI or a domain without spaces or commas, at most 256 bytes")
        }
    }

    /// The column's text: nil when empty (the default).
    public var columnText: String? {
        guard !isEmpty, let data = try? JSONEncoder().encode(self) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads the column's text (nil or unreadable: the default, with no SIP source allowed).
    public init(columnText: String?) {
        guard let columnText, let decoded = try? JSONDecoder().decode(Self.self, from: Data(columnText.utf8)) else {
            self.init()
            return
        }
        self = decoded
    }

    enum CodingKeys: String, CodingKey { case allow, tenantAddresses }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        allow = try (c.decodeIfPresent([String].self, forKey: .allow) ?? []).map { text in
            guard let block = AddressBlock(text) else {
                throw DecodingError.dataCorruptedError(forKey: .allow, in: c, debugDescription: "not an address block")
            }
            return block
        }
        tenantAddresses = try c.decodeIfPresent([String].self, forKey: .tenantAddresses) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(allow.map(\.description), forKey: .allow)
        try c.encode(tenantAddresses, forKey: .tenantAddresses)
    }
}
