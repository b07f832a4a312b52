/// The CSeq value (RFC 3261 §20.16): orders requests in a dialog and tells which request a CANCEL or
/// ACK belongs to.
public struct SIPCSeq: Sendable, Equatable {
    public var number: UInt32
    public var method: String

    public static func parse(_ value: String) throws(SIPParseError) -> SIPCSeq {
        let parts = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2, parts[0].count <= 10, parts[0].allSatisfy(\.isASCIIDigit),
            let number = UInt32(parts[0]),
            SIPSyntax.isToken(parts[1])
        else { throw .malformedCSeq }
        return SIPCSeq(number: number, method: String(parts[1]))
    }
}
