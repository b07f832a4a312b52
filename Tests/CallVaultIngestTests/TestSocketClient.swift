import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking TCP client for tests: raw HTTP requests and a minimal WebSocket client (RFC 6455,
/// client frames masked), so the server is exercised over a real socket on 127.0.0.1.
final class TestSocketClient {
    let fd: Int32
    private var pending: [UInt8] = []

    /// - Parameter readTimeout: how long one read waits for the server (seconds).
    init(port: Int, readTimeout: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: readTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// A client on a socket already connected (one end of a socketpair: ``TestTLSTunnel``).
    init(connected fd: Int32, readTimeout: Int = 5) {
        self.fd = fd
        var timeout = timeval(tv_sec: readTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Reads at least one more byte into `pending`; false on EOF or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        pending += chunk[0..<n]
        return true
    }

    private func take(_ count: Int) -> [UInt8]? {
        while pending.count < count { if !fill() { return nil } }
        let bytes = Array(pending[0..<count])
        pending.removeFirst(count)
        return bytes
    }

    /// Reads exactly `count` raw bytes (AudioSocket messages); nil on EOF or timeout first.
    func read(_ count: Int) -> [UInt8]? { take(count) }

    /// Whether the server closed the connection with nothing more to read (false on a byte or a timeout).
    func closedByPeer() -> Bool {
        guard pending.isEmpty else { return false }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        if n > 0 { pending.append(byte) }
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }

    /// One HTTP/1.1 request; returns status and body (Content-Length framed).
    func http(_ method: String, _ target: String, headers: [String: String] = [:], body: String = "") -> (
        status: Int, body: String
    )? {
        request(method, target, headers: headers, body: body).map { ($0.status, $0.body) }
    }

    /// An HTTP response: status, headers (names lower-cased; the last of a repeated one) and body.
    struct Response: CustomStringConvertible {
        let status: Int
        let headers: [String: String]
        /// Every header line in order, repeated ones (`set-cookie`) included; names lower-cased.
        var headerLines: [(name: String, value: String)] = []
        let body: String
        var description: String { "\(status) \(headers) \(body)" }
        /// The body as a JSON object, if it is one.
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] }
    }

    /// One HTTP/1.1 request; returns the whole response (Content-Length framed).
    func request(_ method: String, _ target: String, headers: [String: String] = [:], body: String = "") -> Response? {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.utf8.count)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        send(Array((text + "\r\n" + body).utf8))
        return readResponse()
    }

    /// The next HTTP response on the connection (Content-Length framed).
    func readResponse() -> Response? {
        guard let head = readHead() else { return nil }
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        var fields: [String: String] = [:]
        var lines: [(name: String, value: String)] = []
        for line in head.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            fields[name] = value
            lines.append((name, value))
        }
        let length = fields["content-length"].flatMap { Int($0) } ?? 0
        guard let bytes = take(length) else { return nil }
        return Response(status: status, headers: fields, headerLines: lines, body: String(decoding: bytes, as: UTF8.self))
    }

    private func readHead() -> String? {
        while true {
            if let end = pending.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: pending[..<end.lowerBound], as: UTF8.self)
                pending.removeFirst(end.upperBound)
                return head
            }
            if !fill() { return nil }
        }
    }

    /// Sends a WebSocket upgrade for `target`; returns the response status (101 when upgraded).
    func upgrade(_ target: String, headers: [String: String] = [:]) -> Int {
        var text = "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        send(Array((text + "\r\n").utf8))
        guard let head = readHead() else { return 0 }
        return Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// Sends one masked frame (opcode 1 text, 2 binary, 0 continuation, 8 close, 9 ping).
    func sendFrame(opcode: UInt8, _ payload: [UInt8], fin: Bool = true) {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
        send(frame)
    }

    /// Reads one server frame (servers do not mask).
    func readFrame() -> (opcode: UInt8, payload: [UInt8])? {
        guard let header = take(2) else { return nil }
        var length = Int(header[1] & 0x7F)
        if length == 126 {
            guard let ext = take(2) else { return nil }
            length = Int(ext[0]) << 8 | Int(ext[1])
        } else if length == 127 {
            guard let ext = take(8) else { return nil }
            length = ext.reduce(0) { $0 << 8 | Int($1) }
        }
        guard let payload = take(length) else { return nil }
        return (header[0] & 0x0F, payload)
    }

    /// A close frame's code and reason.
    static func closeCode(_ payload: [UInt8]) -> (code: Int, reason: String) {
        guard payload.count >= 2 else { return (1005, "") }
        return (Int(payload[0]) << 8 | Int(payload[1]), String(decoding: payload[2...], as: UTF8.self))
    }
}
