/// The `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>` line. The version tells
/// a re-INVITE that changes the SDP from one that repeats it.
public struct SDPOrigin: Sendable, Equatable {
    public var username: String
    public var sessionID: String
    public var sessionVersion: String
    public var networkType: String
    public var addressType: String
    public var address: String

    static func parse(_ value: Substring) -> SDPOrigin? {
        let p = value.split(separator: " ")
        guard p.count == 6 else { return nil }
        return SDPOrigin(
            username: String(p[0]),
            sessionID: String(p[1]),
            sessionVersion: String(p[2]),
            networkType: String(p[3]),
            addressType: String(p[4]),
            address: String(p[5])
        )
    }
}
