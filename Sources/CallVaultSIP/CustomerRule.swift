/// How a tenant says which participant of a SIPREC session is the customer.
public enum CustomerRule: Sendable, Equatable {
    /// The participant sending the first labelled stream (the SDP's first m= line), the usual SBC order.
    case firstStream
    /// The one participant none of whose AORs is the tenant's own (`sip:agent@acme.example`, or a bare
    /// domain `acme.example` matching every user there).
    case notTenantAddress([String])
    /// The participant with this AOR (or an AOR in this domain).
    case participantAddress(String)

    /// Whether `aor` matches `pattern`: the same user@host, or a bare-domain pattern matching the host.
    static func matches(_ aor: String, _ pattern: String) -> Bool {
        let a = SIPNameAddress.addressOfRecord(aor)
        let p = SIPNameAddress.addressOfRecord(pattern)
        guard !p.isEmpty else { return false }
        if a == p { return true }
        guard !p.contains("@"), let at = a.lastIndex(of: "@") else { return false }
        var host = a[a.index(after: at)...]
        if let colon = host.lastIndex(of: ":"), !host.contains("]") { host = host[..<colon] }
        return host == p || host.hasSuffix("." + p)
    }
}
