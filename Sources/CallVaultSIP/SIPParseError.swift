/// Why bytes from a SIP peer were refused: one case per rule broken, so a caller can map it to a status
/// code (400, 413, 415, 488) and the log says what was wrong without echoing the peer's bytes.
public enum SIPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    // Framing and message limits.
    case messageTooLarge(limit: Int)
    case lineTooLong(line: Int, limit: Int)
    case tooManyHeaders(limit: Int)
    case incompleteMessage
    // Start line and headers.
    case emptyMessage
    case malformedStartLine
    case unsupportedVersion
    case malformedStatusCode
    case malformedHeader(line: Int)
    case invalidHeaderName(line: Int)
    case foldedLineWithoutHeader(line: Int)
    case malformedContentLength
    case conflictingContentLength
    case contentLengthExceedsBody(declared: Int, available: Int)
    case malformedVia
    case malformedCSeq
    case malformedNameAddress
    case malformedURI
    case malformedSessionExpires
    case malformedContentType
    case unterminatedQuotedString
    // Multipart bodies.
    case missingBoundary
    case invalidBoundary
    case missingOpeningBoundary
    case missingClosingBoundary
    case tooManyParts(limit: Int)
    case malformedPartHeaders
    // SDP.
    case notSDP
    case malformedSDPLine(line: Int)
    case malformedMediaLine(line: Int)
    case tooManyMediaLines(limit: Int)
    case tooManySDPLines(limit: Int)
    // XML metadata.
    case xmlTooLarge(limit: Int)
    case xmlTooDeep(limit: Int)
    case xmlTooManyElements(limit: Int)
    case xmlDoctypeRefused
    case xmlUnknownEntity
    case xmlMalformed(offset: Int, reason: String)
    case notRecordingMetadata
    // SIPREC offers.
    case unsupportedContentType(String)

    public var description: String {
        switch self {
        case .messageTooLarge(let limit): "SIP message larger than the limit of \(limit) bytes"
        case .lineTooLong(let line, let limit): "line \(line) is longer than the limit of \(limit) bytes"
        case .tooManyHeaders(let limit): "more than \(limit) header fields"
        case .incompleteMessage: "the message ends before the blank line that ends its headers"
        case .emptyMessage: "no start line"
        case .malformedStartLine: "the start line is neither 'METHOD URI SIP/2.0' nor 'SIP/2.0 CODE REASON'"
        case .unsupportedVersion: "the SIP version is not SIP/2.0"
        case .malformedStatusCode: "the status code is not a three-digit number from 100 to 699"
        case .malformedHeader(let line): "header line \(line) has no ':' after a field name"
        case .invalidHeaderName(let line): "header line \(line) has a field name with characters a token may not hold"
        case .foldedLineWithoutHeader(let line):
            "line \(line) is a continuation (starts with whitespace) but no header precedes it"
        case .malformedContentLength: "Content-Length is not a non-negative decimal number"
        case .conflictingContentLength: "several Content-Length fields with different values"
        case .contentLengthExceedsBody(let declared, let available):
            "Content-Length says \(declared) bytes but the datagram holds \(available) after the headers"
        case .malformedURI: "the URI is not a sip: or sips: URI with a host"
        case .malformedSessionExpires: "Session-Expires or Min-SE is not a number of seconds"
        case .malformedVia: "a Via value is not 'SIP/2.0/TRANSPORT host[:port][;params]'"
        case .malformedCSeq: "CSeq is not 'NUMBER METHOD' with a 32-bit number"
        case .malformedNameAddress: "a From/To/Contact value has '<' without '>' or no URI"
        case .malformedContentType: "Content-Type is not 'type/subtype[;params]'"
        case .unterminatedQuotedString: "a quoted string has no closing quote"
        case .missingBoundary: "multipart Content-Type without a boundary parameter"
        case .invalidBoundary: "the multipart boundary is empty or longer than 70 characters"
        case .missingOpeningBoundary: "the multipart body has no delimiter line for its boundary"
        case .missingClosingBoundary: "the multipart body ends without its closing delimiter (--boundary--)"
        case .tooManyParts(let limit): "more than \(limit) multipart body parts"
        case .malformedPartHeaders: "a multipart body part has malformed headers"
        case .notSDP: "the body does not start with 'v=0'"
        case .malformedSDPLine(let line): "SDP line \(line) is not 'x=value'"
        case .malformedMediaLine(let line): "SDP line \(line) is not 'm=media port proto fmt...'"
        case .tooManyMediaLines(let limit): "more than \(limit) m= lines in the SDP"
        case .tooManySDPLines(let limit): "more than \(limit) lines in the SDP"
        case .xmlTooLarge(let limit): "metadata XML larger than the limit of \(limit) bytes"
        case .xmlTooDeep(let limit): "metadata XML nested deeper than \(limit) elements"
        case .xmlTooManyElements(let limit): "metadata XML has more than \(limit) elements or attributes"
        case .xmlDoctypeRefused: "metadata XML has a DOCTYPE or entity declaration (refused: no DTDs)"
        case .xmlUnknownEntity:
            "metadata XML uses an entity other than the five predefined ones or a character reference"
        case .xmlMalformed(let offset, let reason): "metadata XML malformed at byte \(offset): \(reason)"
        case .notRecordingMetadata: "the XML root element is not <recording>"
        case .unsupportedContentType(let essence):
            "the body is \(essence.prefix(64)), not application/sdp or multipart/mixed with an SDP part"
        }
    }
}
