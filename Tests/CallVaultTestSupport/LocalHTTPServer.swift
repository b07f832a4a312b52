public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A one-thread HTTP/1.1 server on 127.0.0.1 (ephemeral port) for tests of HTTP clients (the
/// transcription engine, the Transit key provider): reads each request whole, records it, and answers
/// what the test's handler says (or never answers), closing the connection after each answer.
public final class LocalHTTPServer: Sendable {
    public struct Request: Sendable {
        public var requestLine: String
        /// Header names in lower case.
        public var headers: [String: String]
        public var body: Data

        public init(requestLine: String, headers: [String: String], body: Data) {
            self.requestLine = requestLine
            self.headers = headers
            self.body = body
        }
    }

    public enum Reply: Sendable {
        case respond(status: Int, headers: [String: String], body: Data)
        /// Keep the connection open and never answer.
        case hang
    }

    struct State {
        var requests: [Request] = []
        var stopped = false
        var hung: [Int32] = []
    }

    public let port: UInt16
    private let listener: Int32
    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)

    public init(handler: @escaping @Sendable (_ index: Int, _ request: Request) -> Reply) throws {
        let (fd, port) = try UnusedPort.bindLoopback()
        guard listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        listener = fd
        self.port = port
        Thread.detachNewThread { [self] in serve(handler) }
    }

    deinit { stop() }

    public var url: URL { URL(string: "http://127.0.0.1:\(port)")! }
    public var requests: [Request] { state.withLock { $0.requests } }

    public func stop() {
        let wasStopped = state.withLock { state in
            defer { state.stopped = true }
            return state.stopped
        }
        guard !wasStopped else { return }
        _ = finished.wait(timeout: .now() + 2)
        close(listener)
        for fd in state.withLock({ $0.hung }) { close(fd) }
    }

    private func serve(_ handler: @Sendable (Int, Request) -> Reply) {
        defer { finished.signal() }
        while !state.withLock({ $0.stopped }) {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            guard let request = Self.read(connection) else {
                close(connection)
                continue
            }
            let index = state.withLock { state in
                state.requests.append(request)
                return state.requests.count - 1
            }
            switch handler(index, request) {
            case .hang:
                state.withLock { $0.hung.append(connection) }
            case .respond(let status, let headers, let body):
                var head = "HTTP/1.1 \(status) Status\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
                for (name, value) in headers { head += "\(name): \(value)\r\n" }
                Self.write(connection, Data((head + "\r\n").utf8) + body)
                close(connection)
            }
        }
    }

    private static func read(_ fd: Int32) -> Request? {
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        let capacity = chunk.count
        func more() -> Bool {
            let count = recv(fd, &chunk, capacity, 0)
            guard count > 0 else { return false }
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }
        let separator = Data("\r\n\r\n".utf8)
        var headEnd: Range<Data.Index>?
        while headEnd == nil {
            guard more() else { return nil }
            headEnd = buffer.range(of: separator)
        }
        let lines = String(decoding: buffer[..<headEnd!.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces
            )
        }
        if headers["expect"]?.lowercased() == "100-continue" { write(fd, Data("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count - headEnd!.upperBound < length {
            guard more() else { return nil }
        }
        return Request(requestLine: lines[0], headers: headers, body: Data(buffer[headEnd!.upperBound...]))
    }

    private static func write(_ fd: Int32, _ data: Data) {
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let sent = send(fd, buffer.baseAddress! + offset, buffer.count - offset, 0)
                guard sent > 0 else { return }
                offset += sent
            }
        }
    }
}
