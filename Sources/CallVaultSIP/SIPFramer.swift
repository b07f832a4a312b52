/// Cuts a TCP (or TLS) byte stream into SIP messages by Content-Length (RFC 3261 §18.3): a message may
/// arrive over several reads and one read may hold several messages. CR/LF keep-alives between
/// messages (RFC 5626 §3.5.1) are skipped. A message over the size limit is refused as soon as that is
/// known, before its bytes are buffered; after an error the framer stays failed, because the stream
/// has lost its place and the connection must be closed.
///
/// For UDP use ``SIPMessage/parse(datagram:limits:)``: one datagram is one message.
public struct SIPFramer: Sendable {
    public let limits: SIPLimits
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already consumed (compacted away from time to time).
    private var start = 0
    /// Where the search for the end of the head resumes, so byte-by-byte reads stay linear.
    private var scanFrom = 0
    /// Where the last line of an unfinished head starts.
    private var lineStart = 0
    /// The head of the message being waited for: its parsed parts and where its body starts.
    private var pending: (startLine: SIPStartLine, headers: SIPHeaders, bodyStart: Int, bodyLength: Int)?
    private var failure: SIPParseError?

    public init(limits: SIPLimits = .default) {
        self.limits = limits
    }

    /// Bytes buffered and not yet handed out as a message.
    public var bufferedBytes: Int { buffer.count - start }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next whole message, or nil when more bytes are needed.
    public mutating func nextMessage() throws(SIPParseError) -> SIPMessage? {
        if let failure { throw failure }
        do {
            return try next()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func next() throws(SIPParseError) -> SIPMessage? {
        if pending == nil {
            // Keep-alives: CRLF (pong) and CRLFCRLF (ping) before a message.
            while start < buffer.count, buffer[start] == 13 || buffer[start] == 10 { start += 1 }
            scanFrom = max(scanFrom, start)
            compact()
            guard start < buffer.count else { return nil }
            // Resume the search a few bytes back, so a blank line split across reads is found.
            let from = max(start, scanFrom - 3)
            guard let (headEnd, bodyStart) = SIPMessage.headerEnd(buffer[from...]) else {
                // An endless line is refused at the line limit, not at the message limit: track where the
                // last line starts over the bytes not scanned before.
                for i in stride(from: buffer.count - 1, through: max(start, scanFrom), by: -1) where buffer[i] == 10 {
                    lineStart = i + 1
                    break
                }
                lineStart = max(lineStart, start)
                scanFrom = buffer.count
                if buffer.count - start > limits.maxMessageBytes {
                    throw .messageTooLarge(limit: limits.maxMessageBytes)
                }
                if buffer.count - lineStart > limits.maxLineBytes + 1 {
                    throw .lineTooLong(line: 0, limit: limits.maxLineBytes)
                }
                return nil
            }
            let (startLine, headers) = try SIPMessage.parseHead(buffer[start..<headEnd], limits: limits)
            // A stream has no other framing: a missing Content-Length means no body (RFC 3261 §18.3
            // makes it mandatory on streams; a body sent without one fails the next message's parse).
            let length = try headers.contentLength() ?? 0
            guard bodyStart - start + length <= limits.maxMessageBytes else {
                throw .messageTooLarge(limit: limits.maxMessageBytes)
            }
            pending = (startLine, headers, bodyStart, length)
        }
        guard let head = pending, buffer.count - head.bodyStart >= head.bodyLength else { return nil }
        let end = head.bodyStart + head.bodyLength
        let message = SIPMessage(
            startLine: head.startLine,
            headers: head.headers,
            body: Array(buffer[head.bodyStart..<end])
        )
        pending = nil
        start = end
        scanFrom = end
        return message
    }

    /// Drops consumed bytes once they are the larger part of the buffer (indices are rebased).
    private mutating func compact() {
        guard start > 4096, start * 2 > buffer.count else { return }
        buffer.removeFirst(start)
        scanFrom -= start
        lineStart = max(0, lineStart - start)
        start = 0
    }
}
