/// A session description (RFC 4566) as an SRC offers it: the session lines and every `m=` line with
/// what the recorder needs (codecs, labels, directions, SDES keys, RTCP). Lenient about what it does
/// not need (unknown lines are kept or skipped, not refused) and strict about size: more `m=` lines
/// than the limit are refused at the first one over, before anything else is built.
public struct SDPSession: Sendable, Equatable {
    public var version: Int
    public var origin: SDPOrigin?
    public var sessionName: String?
    public var connection: SDPConnection?
    /// `t=<start> <stop>`, as written.
    public var timing: String?
    /// The session-level direction, the default of every stream without its own.
    public var direction: SDPDirection?
    /// Session-level `a=` lines, in order.
    public var attributes: [SDPAttribute] = []
    public var media: [SDPMedia] = []

    /// The direction in force for `media[index]`.
    public func direction(ofMedia index: Int) -> SDPDirection {
        media[index].direction(sessionDefault: direction)
    }

    /// The connection in force for `media[index]`: its own, else the session's.
    public func connection(ofMedia index: Int) -> SDPConnection? {
        media[index].connection ?? connection
    }

    public static func parse(_ bytes: some Collection<UInt8>, limits: SIPLimits = .default) throws(SIPParseError)
        -> SDPSession
    {
        guard bytes.count <= limits.maxMessageBytes else { throw .messageTooLarge(limit: limits.maxMessageBytes) }
        let bytes = Array(bytes)
        var session = SDPSession(version: 0)
        var sawVersion = false
        var lineNumber = 0
        // Lines are cut on bytes: in a Swift String "\r\n" is one Character, and a lone "\n" is legal too.
        for raw in bytes.split(separator: 10, omittingEmptySubsequences: false) {
            lineNumber += 1
            guard lineNumber <= limits.maxSDPLines else { throw .tooManySDPLines(limit: limits.maxSDPLines) }
            let trimmed = raw.last == 13 ? raw.dropLast() : raw
            if trimmed.isEmpty { continue }
            guard trimmed.count <= limits.maxLineBytes else {
                throw .lineTooLong(line: lineNumber, limit: limits.maxLineBytes)
            }
            let line = Substring(String(decoding: trimmed, as: UTF8.self))
            let utf8 = line.utf8
            guard utf8.count >= 2, utf8[utf8.index(after: utf8.startIndex)] == UInt8(ascii: "="), let type = line.first
            else { throw .malformedSDPLine(line: lineNumber) }
            let value = line.dropFirst(2)
            if !sawVersion {
                guard type == "v", SIPSyntax.trim(value) == "0" else { throw .notSDP }
                sawVersion = true
                continue
            }
            if type == "m" {
                guard session.media.count < limits.maxMediaLines else {
                    throw .tooManyMediaLines(limit: limits.maxMediaLines)
                }
                session.media.append(try SDPMedia.parse(value, line: lineNumber))
                continue
            }
            if session.media.isEmpty {
                switch type {
                case "o": session.origin = SDPOrigin.parse(value)
                case "s": session.sessionName = String(value)
                case "c": session.connection = SDPConnection.parse(value)
                case "t": if session.timing == nil { session.timing = String(value) }
                case "a":
                    let attribute = SDPAttribute.parse(value)
                    session.attributes.append(attribute)
                    if let direction = SDPDirection(rawValue: attribute.name.lowercased()) {
                        session.direction = direction
                    }
                default: break
                }
            } else {
                let index = session.media.count - 1
                switch type {
                case "c": session.media[index].connection = SDPConnection.parse(value)
                case "a": session.media[index].apply(SDPAttribute.parse(value))
                default: break
                }
            }
        }
        guard sawVersion else { throw .notSDP }
        return session
    }
}
