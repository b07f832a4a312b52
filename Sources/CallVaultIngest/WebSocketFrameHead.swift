import NIOCore
import NIOWebSocket

/// The head of one WebSocket frame (RFC 6455 §5.2), read by the media handler straight from the
/// inbound bytes: no frame object per message (NIO's `WebSocketFrameDecoder` makes a `WebSocketFrame`,
/// one heap allocation each), the payload a slice of the read buffer. It enforces what that decoder
/// enforces, with the same errors: the length limit (from the head, before the payload arrives), no
/// fragmented control frame, no control frame over 125 bytes.
struct WebSocketFrameHead: Equatable {
    var fin: Bool
    var opcode: WebSocketOpcode
    /// The client's masking key, its four bytes in network order (clients mask every frame; nil if one
    /// did not). An integer, not NIO's `WebSocketMaskingKey`: making one from bytes goes through a
    /// generic initializer, which allocated here.
    var mask: UInt32?
    var length: Int

    /// Reads the next whole frame from `buffer`, moving its reader index past it; nil, with nothing
    /// read, while the frame has not all arrived.
    /// - Throws: `NIOWebSocketError.invalidFrameLength` for a frame longer than `maximumLength`,
    ///   `.fragmentedControlFrame`, `.multiByteControlFrameLength`.
    static func read(from buffer: inout ByteBuffer, maximumLength: Int) throws(NIOWebSocketError)
        -> (head: WebSocketFrameHead, payload: ByteBuffer)?
    {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self),
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return nil }
        var offset = start + 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let word = buffer.getInteger(at: offset, as: UInt16.self) else { return nil }
            length = Int(word)
            offset += 2
        } else if length == 127 {
            guard let word = buffer.getInteger(at: offset, as: UInt64.self) else { return nil }
            guard word <= UInt64(Int.max) else { throw .invalidFrameLength }
            length = Int(word)
            offset += 8
        }
        guard length <= maximumLength else { throw .invalidFrameLength }
        let control = first & 0x08 != 0
        let fin = first & 0x80 != 0
        if control && !fin { throw .fragmentedControlFrame }
        if control && length > 125 { throw .multiByteControlFrameLength }
        var mask: UInt32?
        if second & 0x80 != 0 {
            guard let key = buffer.getInteger(at: offset, as: UInt32.self) else { return nil }
            mask = key
            offset += 4
        }
        guard let payload = buffer.getSlice(at: offset, length: length) else { return nil }
        buffer.moveReaderIndex(to: offset + length)
        let head = WebSocketFrameHead(
            fin: fin, opcode: WebSocketOpcode(encodedWebSocketOpcode: first & 0x0F)!, mask: mask, length: length)
        return (head, payload)
    }
}
