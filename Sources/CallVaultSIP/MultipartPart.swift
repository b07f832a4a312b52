/// One part of a ``MultipartBody``: its own headers (Content-Type, Content-Disposition, Content-ID)
/// and bytes.
public struct MultipartPart: Sendable, Equatable {
    public var headers: SIPHeaders
    public var body: [UInt8]
    /// Nil when the part has no Content-Type or an unreadable one (RFC 2046 then means text/plain).
    public var contentType: SIPMediaType?

    /// The disposition type lowercased (`session`, `recording-session`, `signal`), nil when absent.
    public var disposition: String? {
        guard let value = headers.first("Content-Disposition"),
            let type = (try? SIPSyntax.split(Substring(value), at: ";"))?.first
        else { return nil }
        return type.lowercased()
    }

    static func parse(_ bytes: ArraySlice<UInt8>, limits: SIPLimits) throws(SIPParseError) -> MultipartPart {
        // Headers end at the first blank line; a part that starts with a blank line has none.
        var headEnd = bytes.startIndex
        var bodyStart = bytes.startIndex
        if bytes.first == 10 {
            bodyStart += 1
        } else if bytes.count >= 2, bytes[bytes.startIndex] == 13, bytes[bytes.startIndex + 1] == 10 {
            bodyStart += 2
        } else if let (end, start) = SIPMessage.headerEnd(bytes) {
            headEnd = end
            bodyStart = start
        } else {
            // Headers only (a part with an empty body ends at the delimiter, without a blank line).
            headEnd = bytes.endIndex
            bodyStart = bytes.endIndex
        }
        let lines = try SIPMessage.splitLines(bytes[bytes.startIndex..<headEnd], limits: limits)
        let headers: SIPHeaders
        do {
            headers = try SIPHeaders.parse(lines: lines[...], firstLineNumber: 1, limits: limits)
        } catch .tooManyHeaders(let limit) {
            throw .tooManyHeaders(limit: limit)
        } catch {
            throw .malformedPartHeaders
        }
        let contentType = headers.first("Content-Type").flatMap { try? SIPMediaType.parse($0) }
        return MultipartPart(headers: headers, body: Array(bytes[bodyStart...]), contentType: contentType)
    }
}
