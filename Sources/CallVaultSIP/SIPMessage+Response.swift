extension SIPMessage {
    /// A response to `request` (RFC 3261 §8.2.6): its Via values (the top one with `received` and, when
    /// asked for, `rport` filled in: RFC 3581), From, Call-ID and CSeq copied, To copied with `toTag`
    /// added when it has none (any final response, and provisional ones of a dialog), Record-Route
    /// copied on a 2xx to a dialog-creating request. `reasonDetail` is appended to the reason phrase
    /// (a 400 says what was wrong). Add Contact, Allow, the body and so on afterwards.
    public static func response(
        to request: SIPMessage, code: Int, reasonDetail: String? = nil, toTag: String?,
        source: (host: String, port: Int)? = nil
    ) -> SIPMessage {
        var headers = SIPHeaders()
        var vias = (try? request.headers.list("Via")) ?? request.headers.values("Via")
        if let source, let top = vias.first, let via = try? SIPVia.parse(top) {
            vias[0] = Self.stamp(top, via: via, source: source)
        }
        for via in vias { headers.append(name: "Via", value: via) }
        if let from = request.headers.first("From") { headers.append(name: "From", value: from) }
        if var to = request.headers.first("To") {
            if let toTag, (try? SIPNameAddress.parse(to).parameters.parameter("tag")) == nil, code > 100 {
                to += ";tag=\(toTag)"
            }
            headers.append(name: "To", value: to)
        }
        if let callID = request.callID { headers.append(name: "Call-ID", value: callID) }
        if let cseq = request.headers.first("CSeq") { headers.append(name: "CSeq", value: cseq) }
        if (200..<300).contains(code), request.method == "INVITE" {
            for route in request.headers.values("Record-Route") { headers.append(name: "Record-Route", value: route) }
        }
        headers.append(name: "Server", value: "CallVault")
        var reason = SIPStatus.reason(code)
        if let reasonDetail {
            // A reason phrase is one line of text: no CR/LF (or other control character) reaches the wire
            // from a detail. Scalars, not Characters: "\r\n" is a single Character in Swift.
            var line = String.UnicodeScalarView()
            for scalar in reasonDetail.unicodeScalars.prefix(200) {
                line.append(scalar.properties.generalCategory == .control ? " " : scalar)
            }
            reason += " (" + String(line) + ")"
        }
        return SIPMessage(startLine: .response(code: code, reason: reason), headers: headers, body: [])
    }

    /// The top Via with `received=` (the packet's source host, when it differs from sent-by) and
    /// `rport=` (the source port, when the client asked with a bare `rport`).
    static func stamp(_ value: String, via: SIPVia, source: (host: String, port: Int)) -> String {
        var pieces = (try? SIPSyntax.split(Substring(value), at: ";").map(String.init)) ?? [value]
        if via.hasRport, via.rportValue == nil {
            pieces = pieces.map { SIPSyntax.trim(Substring($0)).lowercased() == "rport" ? "rport=\(source.port)" : $0 }
        }
        if via.received == nil, via.host != source.host || via.hasRport {
            pieces.append("received=\(source.host)")
        }
        return pieces.joined(separator: ";")
    }
}
