/// A parsed RTP packet: its header and a view of its payload in the caller's datagram.
///
/// Not stored anywhere: the payload points into the datagram buffer and is valid only while that
/// buffer is, which is what lets the receiver parse without copying.
public struct RTPPacket {
    public var header: RTPHeader
    /// The payload, padding removed; valid while the datagram's buffer is.
    public var payload: UnsafeRawBufferPointer

    /// Parses `datagram`; see ``RTPHeader/parse(_:)`` for the checks.
    public init(parsing datagram: UnsafeRawBufferPointer) throws(RTPParseError) {
        let header = try RTPHeader.parse(datagram)
        self.header = header
        self.payload = header.payload(in: datagram)
    }
}
