/// One SIP request or response, parsed from bytes a peer sent (RFC 3261 §7). The body is kept as
/// bytes; ``MultipartBody``, ``SDPSession`` and ``RecordingMetadata`` read it.
public struct SIPMessage: Sendable, Equatable {
    public var startLine: SIPStartLine
    public var headers: SIPHeaders
    public var body: [UInt8]

    public init(startLine: SIPStartLine, headers: SIPHeaders, body: [UInt8]) {
        self.startLine = startLine
        self.headers = headers
        self.body = body
    }

    /// The request method, nil for a response.
    public var method: String? {
        if case .request(let method, _) = startLine { method } else { nil }
    }

    /// The request URI, nil for a response.
    public var requestURI: String? {
        if case .request(_, let uri) = startLine { uri } else { nil }
    }

    /// The status code, nil for a request.
    public var statusCode: Int? {
        if case .response(let code, _) = startLine { code } else { nil }
    }

    public var callID: String? { headers.first("Call-ID") }

    /// Every Via value, topmost first (several per line split apart).
    public func vias() throws(SIPParseError) -> [SIPVia] {
        var out: [SIPVia] = []
        for value in try headers.list("Via") { out.append(try SIPVia.parse(value)) }
        return out
    }

    public func cseq() throws(SIPParseError) -> SIPCSeq? {
        guard let value = headers.first("CSeq") else { return nil }
        return try SIPCSeq.parse(value)
    }

    /// Every Contact value (a `*` Contact is skipped).
    public func contacts() throws(SIPParseError) -> [SIPNameAddress] {
        var out: [SIPNameAddress] = []
        for value in try headers.list("Contact") where value != "*" { out.append(try SIPNameAddress.parse(value)) }
        return out
    }

    public func contentType() throws(SIPParseError) -> SIPMediaType? {
        guard let value = headers.first("Content-Type") else { return nil }
        return try SIPMediaType.parse(value)
    }

    /// Parses one UDP datagram: one message; without Content-Length the body is the rest of the
    /// datagram, bytes past Content-Length are dropped (RFC 3261 §18.3), a Content-Length past the end
    /// is refused. Returns nil for a keep-alive (only CR/LF).
    public static func parse(datagram: some Collection<UInt8>, limits: SIPLimits = .default) throws(SIPParseError)
        -> SIPMessage?
    {
        guard datagram.count <= limits.maxMessageBytes else { throw .messageTooLarge(limit: limits.maxMessageBytes) }
        let bytes = Array(datagram)
        var start = 0
        while start < bytes.count, bytes[start] == 13 || bytes[start] == 10 { start += 1 }
        if start == bytes.count { return nil }
        guard let (headEnd, bodyStart) = headerEnd(bytes[start...]) else { throw .incompleteMessage }
        let (startLine, headers) = try parseHead(bytes[start..<headEnd], limits: limits)
        let available = bytes.count - bodyStart
        var length = available
        if let declared = try headers.contentLength() {
            guard declared <= available else {
                throw .contentLengthExceedsBody(declared: declared, available: available)
            }
            length = declared
        }
        return SIPMessage(startLine: startLine, headers: headers, body: Array(bytes[bodyStart..<(bodyStart + length)]))
    }

    /// Where the head ends: the index of the blank line's first byte and the body's first byte. Accepts
    /// CRLF CRLF and the bare LF LF some test tools send. Line limits are checked by the callers
    /// (``splitLines(_:limits:)`` and ``SIPFramer``).
    static func headerEnd(_ bytes: ArraySlice<UInt8>) -> (Int, Int)? {
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == 10 {
                let next = i + 1
                if next < bytes.endIndex, bytes[next] == 10 { return (i, next + 1) }
                if next + 1 < bytes.endIndex, bytes[next] == 13, bytes[next + 1] == 10 {
                    return (i > bytes.startIndex && bytes[i - 1] == 13 ? i - 1 : i, next + 2)
                }
            }
            i += 1
        }
        return nil
    }

    /// Parses the start line and headers (everything before the blank line).
    static func parseHead(_ head: ArraySlice<UInt8>, limits: SIPLimits) throws(SIPParseError) -> (
        SIPStartLine, SIPHeaders
    ) {
        let lines = try splitLines(head, limits: limits)
        guard let first = lines.first, !first.isEmpty else { throw .emptyMessage }
        let startLine = try SIPStartLine.parse(first)
        let headers = try SIPHeaders.parse(lines: lines.dropFirst(), firstLineNumber: 2, limits: limits)
        return (startLine, headers)
    }

    /// Splits at LF, dropping a CR before it; each line bounded by `maxLineBytes`, the line count by
    /// a multiple of `maxHeaders` (folded lines count).
    static func splitLines(_ bytes: ArraySlice<UInt8>, limits: SIPLimits) throws(SIPParseError) -> [Substring] {
        var lines: [Substring] = []
        var start = bytes.startIndex
        var number = 1
        let maxLines = limits.maxHeaders * 4 + 1
        func add(_ end: Int) throws(SIPParseError) {
            var stop = end
            if stop > start, bytes[stop - 1] == 13 { stop -= 1 }
            guard stop - start <= limits.maxLineBytes else {
                throw .lineTooLong(line: number, limit: limits.maxLineBytes)
            }
            guard lines.count < maxLines else { throw .tooManyHeaders(limit: limits.maxHeaders) }
            lines.append(Substring(String(decoding: bytes[start..<stop], as: UTF8.self)))
            number += 1
        }
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == 10 {
                try add(i)
                start = i + 1
            } else if i - start > limits.maxLineBytes {
                throw .lineTooLong(line: number, limit: limits.maxLineBytes)
            }
            i += 1
        }
        if start < bytes.endIndex { try add(bytes.endIndex) }
        return lines
    }
}
