import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A small blocking WebSocket client (RFC 6455; client frames masked) for `callvault simulate`:
/// one thread per simulated call, which is all a demo or a modest load test needs.
final class WebSocketClient {
    enum Failure: Error, CustomStringConvertible {
        case connect(String), upgrade(String), closed

        var description: String {
            switch self {
            case .connect(let what): "cannot connect: \(what)"
            case .upgrade(let what): "WebSocket upgrade refused: \(what)"
            case .closed: "the server closed the connection"
            }
        }
    }

    private let fd: Int32
    private var received: [UInt8] = []
    private var mask: UInt32 = 0x1234_5678

    /// Connects to `ws://host:port/path?query` and upgrades.
    init(url: String, headers: [String: String] = [:]) throws {
        guard let parsed = URL(string: url), parsed.scheme == "ws", let host = parsed.host else {
            throw Failure.connect("\(url) is not a ws://HOST:PORT/PATH URL")
        }
        let port = parsed.port ?? 80
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, connected == 0 else {
            close(fd)
            throw Failure.connect("\(host):\(port): \(String(cString: strerror(errno)))")
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var target = parsed.path.isEmpty ? "/" : parsed.path
        if let query = parsed.query { target += "?" + query }
        var request = "GET \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: Y2FsbHZhdWx0LXNpbXVsYXRl\r\nSec-WebSocket-Version: 13\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        try send(Array((request + "\r\n").utf8))
        while received.firstRange(of: Array("\r\n\r\n".utf8)) == nil { try fill() }
        let end = received.firstRange(of: Array("\r\n\r\n".utf8))!
        let head = String(decoding: received[..<end.lowerBound], as: UTF8.self)
        received.removeFirst(end.upperBound)
        guard head.hasPrefix("HTTP/1.1 101") else {
            throw Failure.upgrade(head.split(separator: "\r\n").first.map(String.init) ?? "no answer")
        }
    }

    deinit { close(fd) }

    func sendText(_ text: String) throws { try sendFrame(opcode: 1, Array(text.utf8)) }

    func sendFrame(opcode: UInt8, _ payload: [UInt8]) throws {
        var frame: [UInt8] = [0x80 | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        mask = mask &* 1_664_525 &+ 1_013_904_223
        let key = withUnsafeBytes(of: mask) { Array($0) }
        frame += key
        frame += payload.enumerated().map { $0.element ^ key[$0.offset & 3] }
        try send(frame)
    }

    /// Waits for the server's close frame (or the connection's end); returns its code.
    func awaitClose() -> Int {
        while true {
            guard let (opcode, payload) = try? readFrame() else { return 1006 }
            if opcode == 8 { return payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : 1005 }
        }
    }

    private func readFrame() throws -> (UInt8, [UInt8]) {
        let header = try take(2)
        var length = Int(header[1] & 0x7F)
        if length == 126 {
            let ext = try take(2)
            length = Int(ext[0]) << 8 | Int(ext[1])
        } else if length == 127 {
            length = try take(8).reduce(0) { $0 << 8 | Int($1) }
        }
        return (header[0] & 0x0F, try take(length))
    }

    private func take(_ count: Int) throws -> [UInt8] {
        while received.count < count { try fill() }
        let bytes = Array(received[0..<count])
        received.removeFirst(count)
        return bytes
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw Failure.closed }
        received += chunk[0..<n]
    }

    private func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure.closed }
            offset += n
        }
    }
}
