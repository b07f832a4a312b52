/// A `multipart/mixed` body (RFC 2046 §5.1) split into its parts: how a SIPREC INVITE carries the SDP
/// and the recording metadata side by side, in either order, sometimes beside other parts (Cisco's
/// `application/gtd`). Preamble and epilogue are ignored; a body without its closing delimiter is
/// refused, because a truncated metadata part would silently map the wrong speakers.
public struct MultipartBody: Sendable, Equatable {
    public var parts: [MultipartPart]

    /// Splits `body` using the boundary parameter of `contentType` (quoted or not).
    public static func parse(_ body: [UInt8], contentType: SIPMediaType, limits: SIPLimits = .default)
        throws(SIPParseError) -> MultipartBody
    {
        guard let boundary = contentType.parameters.parameter("boundary")?.value else { throw .missingBoundary }
        return try parse(body, boundary: boundary, limits: limits)
    }

    public static func parse(_ body: [UInt8], boundary: String, limits: SIPLimits = .default) throws(SIPParseError)
        -> MultipartBody
    {
        guard !boundary.isEmpty, boundary.utf8.count <= 70 else { throw .invalidBoundary }
        let delimiter = Array("--\(boundary)".utf8)
        // Delimiter lines: the delimiter at the start of the body or right after a LF.
        var position = 0
        guard let first = findDelimiter(delimiter, in: body, from: 0) else { throw .missingOpeningBoundary }
        position = first
        var parts: [MultipartPart] = []
        while true {
            var after = position + delimiter.count
            if after + 1 < body.count, body[after] == 45, body[after + 1] == 45 {  // "--": the close
                if parts.isEmpty { throw .missingOpeningBoundary }
                return MultipartBody(parts: parts)
            }
            // Transport padding, then the line break that ends the delimiter line.
            while after < body.count, body[after] == 32 || body[after] == 9 { after += 1 }
            if after < body.count, body[after] == 13 { after += 1 }
            guard after < body.count, body[after] == 10 else { throw .missingClosingBoundary }
            let contentStart = after + 1
            guard let next = findDelimiter(delimiter, in: body, from: contentStart) else {
                throw .missingClosingBoundary
            }
            // The line break before the delimiter belongs to the delimiter.
            var contentEnd = next
            if contentEnd > contentStart, body[contentEnd - 1] == 10 { contentEnd -= 1 }
            if contentEnd > contentStart, body[contentEnd - 1] == 13 { contentEnd -= 1 }
            guard parts.count < limits.maxBodyParts else { throw .tooManyParts(limit: limits.maxBodyParts) }
            parts.append(try MultipartPart.parse(body[contentStart..<max(contentStart, contentEnd)], limits: limits))
            position = next
        }
    }

    /// The index of the next delimiter at a line start at or after `from`.
    static func findDelimiter(_ delimiter: [UInt8], in body: [UInt8], from: Int) -> Int? {
        guard body.count >= delimiter.count else { return nil }
        var i = from
        let last = body.count - delimiter.count
        while i <= last {
            if body[i] == delimiter[0], i == 0 || body[i - 1] == 10 {
                var match = true
                for k in 1..<delimiter.count where body[i + k] != delimiter[k] {
                    match = false
                    break
                }
                if match { return i }
            }
            i += 1
        }
        return nil
    }

    /// The first part whose Content-Type essence is `essence` (lowercase, e.g. `application/sdp`).
    public func part(ofType essence: String) -> MultipartPart? {
        parts.first { $0.contentType?.essence == essence }
    }
}
