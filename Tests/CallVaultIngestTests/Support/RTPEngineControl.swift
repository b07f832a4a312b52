import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A client of rtpengine's NG control protocol (a cookie, a space, a bencoded dictionary, over UDP),
/// just what the tests need: offer, answer, subscribe request/answer (SIPREC forking), delete.
final class RTPEngineControl {
    /// A bencoded value.
    indirect enum Value: Equatable {
        case string(String)
        case integer(Int)
        case list([Value])
        case dictionary([String: Value])

        var string: String? { if case .string(let s) = self { s } else { nil } }
        subscript(key: String) -> Value? { if case .dictionary(let d) = self { d[key] } else { nil } }
    }

    let address: (host: String, port: Int)
    private let client: TestSIPClient

    /// `CALLVAULT_TEST_RTPENGINE_NG` (set by scripts/test), nil when not running.
    static var configured: (host: String, port: Int)? {
        guard let text = ProcessInfo.processInfo.environment["CALLVAULT_TEST_RTPENGINE_NG"],
            let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...])
        else { return nil }
        return (String(text[..<colon]), port)
    }

    init(address: (host: String, port: Int)) throws {
        self.address = address
        client = try TestSIPClient(serverPort: address.port)
    }

    /// Sends one command; returns the reply's dictionary (throws when `result` is not `ok`).
    func command(_ name: String, _ arguments: [String: Value]) throws -> Value {
        let cookie = "cv\(UInt32.random(in: 1...UInt32.max))"
        var dictionary = arguments
        dictionary["command"] = .string(name)
        client.send(Array("\(cookie) ".utf8) + Self.encode(.dictionary(dictionary)))
        guard let reply = client.receive(), reply.hasPrefix(cookie + " ") else {
            throw POSIXError(.ETIMEDOUT)
        }
        var bytes = Array(reply.utf8.dropFirst(cookie.utf8.count + 1))[...]
        let value = try Self.decode(&bytes)
        guard value["result"]?.string == "ok" else {
            throw NGError(command: name, reason: value["error-reason"]?.string ?? value["result"]?.string ?? "?")
        }
        return value
    }

    struct NGError: Error, CustomStringConvertible {
        let command: String
        let reason: String
        var description: String { "rtpengine \(command): \(reason)" }
    }

    static func encode(_ value: Value) -> [UInt8] {
        switch value {
        case .string(let s): return Array("\(s.utf8.count):".utf8) + Array(s.utf8)
        case .integer(let n): return Array("i\(n)e".utf8)
        case .list(let items): return [UInt8(ascii: "l")] + items.flatMap(encode) + [UInt8(ascii: "e")]
        case .dictionary(let d):
            return [UInt8(ascii: "d")] + d.keys.sorted().flatMap { encode(.string($0)) + encode(d[$0]!) } + [UInt8(ascii: "e")]
        }
    }

    static func decode(_ bytes: inout ArraySlice<UInt8>) throws -> Value {
        guard let first = bytes.first else { throw POSIXError(.EBADMSG) }
        switch first {
        case UInt8(ascii: "d"):
            bytes.removeFirst()
            var d: [String: Value] = [:]
            while bytes.first != UInt8(ascii: "e") {
                guard case .string(let key) = try decode(&bytes) else { throw POSIXError(.EBADMSG) }
                d[key] = try decode(&bytes)
            }
            bytes.removeFirst()
            return .dictionary(d)
        case UInt8(ascii: "l"):
            bytes.removeFirst()
            var items: [Value] = []
            while bytes.first != UInt8(ascii: "e") { items.append(try decode(&bytes)) }
            bytes.removeFirst()
            return .list(items)
        case UInt8(ascii: "i"):
            bytes.removeFirst()
            let digits = bytes.prefix { $0 != UInt8(ascii: "e") }
            bytes.removeFirst(digits.count + 1)
            return .integer(Int(String(decoding: digits, as: UTF8.self)) ?? 0)
        default:
            let digits = bytes.prefix { $0 != UInt8(ascii: ":") }
            guard let length = Int(String(decoding: digits, as: UTF8.self)) else { throw POSIXError(.EBADMSG) }
            bytes.removeFirst(digits.count + 1)
            let text = String(decoding: bytes.prefix(length), as: UTF8.self)
            bytes.removeFirst(length)
            return .string(text)
        }
    }

    /// The audio port of the first `m=` line of an SDP.
    static func audioPort(_ sdp: String) -> Int? {
        // Split on newlines as Characters: in a Swift String "\r\n" is one Character, not "\r" then "\n".
        sdp.split(whereSeparator: \.isNewline).first { $0.hasPrefix("m=audio ") }.flatMap { Int($0.split(separator: " ")[1]) }
    }
}

/// Sends RTP (PCMU, 20 ms per packet, real time) from a bound UDP port, with RFC 4733 keys.
final class RTPSender: @unchecked Sendable {  // each sender used by one thread at a time
    let socket: TestSIPClient

    init() throws { socket = try TestSIPClient(serverPort: 0) }

    var port: Int { socket.localPort }

    /// Sends `samples` (8 kHz) to `port` in real time; `keys` are (ms, event) RFC 4733 events.
    func send(_ samples: [Int16], to port: Int, ssrc: UInt32, keys: [(atMs: Int, event: UInt8)] = [], start: Date) {
        let packets = RTPCapture.packets(RTPCapture.Stream(port: port, ssrc: ssrc, samples: samples, keys: keys))
        for packet in packets {
            let due = start.addingTimeInterval(Double(packet.timeUs) / 1_000_000)
            let wait = due.timeIntervalSinceNow
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            socket.send(packet.rtp, toPort: port)
        }
    }
}
