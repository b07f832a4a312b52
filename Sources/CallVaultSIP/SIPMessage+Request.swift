extension SIPMessage {
    /// A request CallVault sends within a dialog it accepted (a BYE when the recording must end, RFC
    /// 3261 §12.2.1.1): to the remote target, through the route set, From/To swapped from the SRC's
    /// view, the local CSeq, and a fresh Via branch.
    public static func request(
        _ method: String, remoteTarget: String, routeSet: [String], via: String, from localAddress: String,
        to remoteAddress: String, callID: String, cseq: UInt32, extraHeaders: [(String, String)] = []
    ) -> SIPMessage {
        var headers = SIPHeaders()
        headers.append(name: "Via", value: via)
        headers.append(name: "Max-Forwards", value: "70")
        for route in routeSet { headers.append(name: "Route", value: route) }
        headers.append(name: "From", value: localAddress)
        headers.append(name: "To", value: remoteAddress)
        headers.append(name: "Call-ID", value: callID)
        headers.append(name: "CSeq", value: "\(cseq) \(method)")
        headers.append(name: "User-Agent", value: "CallVault")
        for (name, value) in extraHeaders { headers.append(name: name, value: value) }
        return SIPMessage(startLine: .request(method: method, uri: remoteTarget), headers: headers, body: [])
    }
}
