import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking SIP client over UDP on 127.0.0.1 for tests: sends requests as an SRC would (its own
/// Via with `rport`, tags, CSeq) and reads what the server answers, retransmissions included.
final class TestSIPClient {
    let fd: Int32
    let localPort: Int
    let serverPort: Int
    let callID: String
    let fromTag = "src\(UInt32.random(in: 1...UInt32.max))"
    /// The server's tag, once a response carried one.
    var toTag: String?

    init(serverPort: Int, callID: String = "call-\(UUID().uuidString)@src.test", readTimeoutMs: Int = 5000) throws {
        self.serverPort = serverPort
        self.callID = callID
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        localPort = Int(UInt16(bigEndian: bound.sin_port))
        self.fd = fd
        setTimeout(ms: readTimeoutMs)
    }

    deinit { close(fd) }

    func setTimeout(ms: Int) {
        var timeout = timeval(tv_sec: ms / 1000, tv_usec: Int((ms % 1000) * 1000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8], toPort port: Int? = nil) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port ?? serverPort).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// The next datagram as text; nil on timeout.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self)
        if toTag == nil { toTag = Self.toTag(in: text) }
        return text
    }

    /// The tag of a message's To header (the server's side of the dialog), if it has one.
    static func toTag(in text: String) -> String? {
        guard let tag = header("To", in: text)?.components(separatedBy: "tag=").dropFirst().first else { return nil }
        return String(tag.prefix { $0 != ";" && $0 != ">" })
    }

    /// The next final response (provisional ones skipped) or request from the server; nil on timeout.
    func receiveFinal() -> String? {
        while let text = receive() {
            if text.hasPrefix("SIP/2.0 1") { continue }
            return text
        }
        return nil
    }

    /// The status code of a response's first line.
    static func status(_ text: String?) -> Int? {
        guard let text, text.hasPrefix("SIP/2.0 ") else { return nil }
        return Int(text.dropFirst(8).prefix(3))
    }

    static func header(_ name: String, in text: String) -> String? {
        for line in text.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
            return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    static func body(_ text: String) -> String {
        guard let range = text.range(of: "\r\n\r\n") else { return "" }
        return String(text[range.upperBound...])
    }

    /// A request of this dialog. `inDialog` adds the server's To tag.
    func request(
        _ method: String, cseq: Int, tenant: String = "acme", inDialog: Bool = false, branch: String? = nil,
        headers: [String] = [], contentType: String? = nil, body: String = ""
    ) -> String {
        Self.request(
            method, cseq: cseq, transport: "UDP", dialog: (localPort, serverPort, callID, fromTag, inDialog ? toTag ?? "" : nil),
            tenant: tenant, branch: branch, headers: headers, contentType: contentType, body: body)
    }

    /// A request as an SRC on `transport` (`UDP`, `TLS`) sends it: its Via and Contact name that
    /// transport (the Contact with `;transport=` unless UDP); `dialog.toTag` is the server's tag, if in a dialog.
    static func request(
        _ method: String, cseq: Int, transport: String,
        dialog: (localPort: Int, serverPort: Int, callID: String, fromTag: String, toTag: String?), tenant: String = "acme",
        branch: String? = nil, headers: [String] = [], contentType: String? = nil, body: String = ""
    ) -> String {
        let contactTransport = transport == "UDP" ? "" : ";transport=\(transport.lowercased())"
        var lines = [
            "\(method) sip:\(tenant)@127.0.0.1:\(dialog.serverPort) SIP/2.0",
            "Via: SIP/2.0/\(transport) 127.0.0.1:\(dialog.localPort);branch=\(branch ?? "z9hG4bK\(method)\(cseq)\(dialog.fromTag)");rport",
            "Max-Forwards: 70",
            "From: <sip:+31201234567@src.test>;tag=\(dialog.fromTag)",
            "To: <sip:\(tenant)@127.0.0.1>" + (dialog.toTag.map { ";tag=\($0)" } ?? ""),
            "Call-ID: \(dialog.callID)",
            "CSeq: \(cseq) \(method)",
            "Contact: <sip:src@127.0.0.1:\(dialog.localPort)\(contactTransport)>;+sip.src",
        ]
        lines += headers
        if let contentType { lines.append("Content-Type: \(contentType)") }
        lines.append("Content-Length: \(body.utf8.count)")
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    /// A two-stream SIPREC offer (labels 1 and 2, PCMU and telephone-event), each stream's direction given.
    static func offer(_ directions: (String, String) = ("sendonly", "sendonly"), version: Int = 1) -> String {
        [
            "v=0", "o=SRC 42 \(version) IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
            "m=audio 40000 RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-16", "a=label:1", "a=\(directions.0)",
            "m=audio 40002 RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-16", "a=label:2", "a=\(directions.1)", "",
        ].joined(separator: "\r\n")
    }

    /// The RFC 7866 multipart body: the offer and RFC 7865 metadata naming the caller (label 1) and the bot (label 2)
    /// (`SIPPScenario.rfcMetadata`, which the sipp scenarios send too).
    static func siprecBody(boundary: String = "cvb0undary", offer: String = TestSIPClient.offer()) -> String {
        let metadata = SIPPScenario.rfcMetadata
        return "--\(boundary)\r\nContent-Type: application/sdp\r\n\r\n\(offer)\r\n--\(boundary)\r\n"
            + "Content-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session\r\n\r\n"
            + metadata.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n--\(boundary)--\r\n"
    }
}
