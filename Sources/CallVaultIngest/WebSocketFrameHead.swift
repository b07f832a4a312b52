import NIOCore
import NIOWebSocket

/// Why a client's frame broke RFC 6455 §5: the close code it leads to and a reason for the peer and the
/// log (a rule, never payload).
enum WebSocketFrameError: Error, Equatable {
    /// A frame longer than the message limit: 1009.
    case tooLarge
    /// A frame the RFC forbids: 1002, with the rule broken.
    case protocolViolation(String)

    var reason: String {
        switch self {
        case .tooLarge: "frame too large"
        case .protocolViolation(let rule): rule
        }
    }
}

/// The head of one WebSocket frame (RFC 6455 §5.2), read by the media handler straight from the
/// inbound bytes: no frame object per message (NIO's `WebSocketFrameDecoder` makes a `WebSocketFrame`,
/// one heap allocation each), the payload a slice of the read buffer.
///
/// It refuses, from the head and before the payload arrives, what a server must refuse of a client
/// frame with no extension negotiated (NIO's decoder checked only the limit and the control-frame
/// rules, the last three below): RSV1–3 set (§5.2), an opcode the RFC does not define (§5.2), an unmasked
/// frame (§5.1), a 16- or 64-bit length that fits a shorter form or a 64-bit one with its top bit set
/// (§5.2: "the minimal number of bytes MUST be used"; "the most significant bit MUST be 0"), a
/// fragmented control frame or one over 125 bytes (§5.5), and a frame longer than the message limit
/// (1009). Each check runs as soon as its bytes are there, in the same order whatever the reads were.
struct WebSocketFrameHead: Equatable {
    var fin: Bool
    var opcode: WebSocketOpcode
    /// The client's masking key, its four bytes in network order. An integer, not NIO's
    /// `WebSocketMaskingKey`: making one from bytes goes through a generic initializer, which allocated here.
    var mask: UInt32
    var length: Int

    /// What ``next(from:maximumLength:)`` found at the buffer's reader index.
    enum Step {
        /// A whole frame, read: the buffer's reader index is past it.
        case frame(WebSocketFrameHead, payload: ByteBuffer)
        /// Not enough bytes yet, nothing read: the frame (as far as its head tells) needs `bytes` in all
        /// from its first byte. More may be asked for once those have arrived.
        case needs(bytes: Int)
    }

    /// Reads the next whole frame from `buffer`, moving its reader index past it; `.needs`, with nothing
    /// read, while the frame has not all arrived.
    static func next(from buffer: inout ByteBuffer, maximumLength: Int) throws(WebSocketFrameError) -> Step {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self),
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return .needs(bytes: 2) }
        guard first & 0x70 == 0 else { throw .protocolViolation("reserved bits set without an extension") }
        let code = first & 0x0F
        guard code <= 2 || (code >= 8 && code <= 10) else { throw .protocolViolation("unknown opcode") }
        guard second & 0x80 != 0 else { throw .protocolViolation("unmasked client frame") }
        let fin = first & 0x80 != 0
        let shortLength = Int(second & 0x7F)
        if code >= 8 {
            guard fin else { throw .protocolViolation("fragmented control frame") }
            guard shortLength <= 125 else { throw .protocolViolation("control frame over 125 bytes") }
        }
        var headLength = 2
        var length = shortLength
        if shortLength == 126 {
            headLength = 4
            guard let word = buffer.getInteger(at: start + 2, as: UInt16.self) else { return .needs(bytes: 4) }
            guard word >= 126 else { throw .protocolViolation("16-bit length below 126") }
            length = Int(word)
        } else if shortLength == 127 {
            headLength = 10
            guard let word = buffer.getInteger(at: start + 2, as: UInt64.self) else { return .needs(bytes: 10) }
            guard word >> 63 == 0 else { throw .protocolViolation("64-bit length with its top bit set") }
            guard word > 0xFFFF else { throw .protocolViolation("64-bit length below 65536") }
            guard word <= UInt64(maximumLength) else { throw .tooLarge }
            length = Int(word)
        }
        guard length <= maximumLength else { throw .tooLarge }
        guard let mask = buffer.getInteger(at: start + headLength, as: UInt32.self) else {
            return .needs(bytes: headLength + 4)
        }
        headLength += 4
        guard let payload = buffer.getSlice(at: start + headLength, length: length) else {
            return .needs(bytes: headLength + length)
        }
        buffer.moveReaderIndex(to: start + headLength + length)
        let head = WebSocketFrameHead(
            fin: fin, opcode: WebSocketOpcode(encodedWebSocketOpcode: code)!, mask: mask, length: length)
        return .frame(head, payload: payload)
    }
}
