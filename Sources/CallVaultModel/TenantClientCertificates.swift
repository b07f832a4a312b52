import Foundation

/// The TLS client certificates a tenant's platform must present on top of its token (`tenant add|set
/// --client-cert FILE|none`, issue 18): the SHA-256 fingerprints of their DER, lowercase hex. Pinning,
/// not a CA chain: a stolen token alone no longer reaches the tenant's calls, and no CA the platform
/// does not control can vouch for a certificate. Empty: no certificate asked for (the default).
/// Stored as one text column, the fingerprints comma-separated, NULL for none.
public struct TenantClientCertificates: Sendable, Hashable, Codable {
    /// The pinned fingerprints, in the order given, without repeats.
    public var fingerprints: [String]

    /// Most pins a tenant holds: the platform's current certificates and their successors, not a CA's worth.
    public static let maximumPins = 10

    public init(fingerprints: [String] = []) {
        self.fingerprints = fingerprints
    }

    public var isEmpty: Bool { fingerprints.isEmpty }

    /// Whether `fingerprint` (lowercase hex of a certificate's DER SHA-256) is pinned.
    public func pins(_ fingerprint: String) -> Bool { fingerprints.contains(fingerprint) }

    /// A fingerprint as an operator may write it (`AB:CD:…` as `openssl x509 -fingerprint -sha256` prints
    /// it, or plain hex, any case) in the stored spelling: 64 lowercase hex digits.
    public static func fingerprint(_ text: String) throws(CatalogError) -> String {
        let hex = text.trimmingCharacters(in: .whitespaces).lowercased().filter { $0 != ":" }
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw CatalogError(
                .invalidPolicy,
                "a client certificate fingerprint must be 64 hex digits (SHA-256), got "
                    + text.prefix(100).debugDescription)
        }
        return hex
    }

    /// Checks the limits, so a pin list that no certificate could match never reaches the catalog.
    public func validate() throws(CatalogError) {
        guard fingerprints.count <= Self.maximumPins else {
            throw CatalogError(
                .invalidPolicy,
                "\(fingerprints.count) client certificates are pinned: the limit is \(Self.maximumPins)")
        }
        for fingerprint in fingerprints where (try? Self.fingerprint(fingerprint)) != fingerprint {
            throw CatalogError(
                .invalidPolicy, "a pinned client certificate fingerprint must be 64 lowercase hex digits (SHA-256)")
        }
        guard Set(fingerprints).count == fingerprints.count else {
            throw CatalogError(.invalidPolicy, "a client certificate fingerprint is pinned twice")
        }
    }

    /// The column's text: the fingerprints comma-separated, nil for none.
    public var columnText: String? { isEmpty ? nil : fingerprints.joined(separator: ",") }

    /// Reads the column; a value that is not a fingerprint (never written by this build) is dropped, so
    /// it can only narrow what is accepted, never widen it.
    public init(columnText: String?) {
        let items = columnText?.split(separator: ",").map(String.init) ?? []
        self.init(fingerprints: items.filter { (try? Self.fingerprint($0)) == $0 })
    }

    public init(from decoder: any Decoder) throws {
        fingerprints = try decoder.singleValueContainer().decode([String].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(fingerprints)
    }
}
