/// The fixed RTP header (RFC 3550 §5.1) of one packet, plus where its payload lies.
///
/// Parsing reads from the caller's buffer and keeps only offsets, so it never allocates: the
/// receiver parses every datagram of every call on the hot path.
public struct RTPHeader: Sendable, Equatable {
    /// Bytes of the fixed header before any CSRC.
    public static let fixedSize = 12

    public var marker: Bool
    /// 0...127.
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    /// Contributing sources (0...15); their identifiers are skipped, a recorder has no use for them.
    public var csrcCount: Int
    /// Whether the X bit announced a header extension (skipped, its length checked).
    public var hasExtension: Bool
    /// Offset of the payload: fixed header, CSRCs and extension.
    public var payloadOffset: Int
    /// Payload bytes, padding removed.
    public var payloadCount: Int
    /// Padding bytes at the end (0 when the P bit is clear).
    public var paddingCount: Int

    /// Parses and checks the header of `datagram`.
    ///
    /// Checks, in order: 12 bytes at least, version 2, the CSRC list fits, the extension header and
    /// its announced length fit, and (P bit) the padding count is at least 1 and leaves a
    /// non-negative payload.
    public static func parse(_ datagram: UnsafeRawBufferPointer) throws(RTPParseError) -> RTPHeader {
        let size = datagram.count
        let offset = try headerSize(datagram)
        let b0 = datagram[0]
        let csrcCount = Int(b0 & 0x0F)
        let hasExtension = b0 & 0x10 != 0
        var padding = 0
        if b0 & 0x20 != 0 {
            padding = Int(datagram[size - 1])
            guard padding >= 1, padding <= size - offset else {
                throw .invalidPadding(paddingCount: padding, available: size - offset)
            }
        }
        let b1 = datagram[1]
        return RTPHeader(
            marker: b1 & 0x80 != 0,
            payloadType: b1 & 0x7F,
            sequenceNumber: UInt16(datagram[2]) << 8 | UInt16(datagram[3]),
            timestamp: datagram.loadBigEndianUInt32(at: 4),
            ssrc: datagram.loadBigEndianUInt32(at: 8),
            csrcCount: csrcCount,
            hasExtension: hasExtension,
            payloadOffset: offset,
            payloadCount: size - offset - padding,
            paddingCount: padding
        )
    }

    /// Bytes of the header of `datagram` (fixed part, CSRCs, extension), checked to fit; padding is
    /// not looked at. SRTP needs exactly this: its padding lies inside the encrypted portion.
    public static func headerSize(_ datagram: UnsafeRawBufferPointer) throws(RTPParseError) -> Int {
        let size = datagram.count
        guard size >= fixedSize else { throw .tooShort(count: size) }
        let b0 = datagram[0]
        let version = b0 >> 6
        guard version == 2 else { throw .unsupportedVersion(version) }
        let csrcCount = Int(b0 & 0x0F)
        var offset = fixedSize + 4 * csrcCount
        guard offset <= size else { throw .csrcListTruncated(csrcCount: csrcCount, datagramSize: size) }
        if b0 & 0x10 != 0 {
            guard offset + 4 <= size else { throw .extensionTruncated(datagramSize: size) }
            let words = Int(datagram[offset + 2]) << 8 | Int(datagram[offset + 3])
            offset += 4 + 4 * words
            guard offset <= size else { throw .extensionTruncated(datagramSize: size) }
        }
        return offset
    }

    /// Whether `datagram` is RTCP multiplexed on the RTP port (RFC 5761 §4): version 2 and a second
    /// byte whose low seven bits are 64...95, i.e. RTCP packet types 192...223 (SR 200, RR 201,
    /// SDES 202, BYE 203, APP 204, the feedback types 205 and 206). RTP payload types 64...95 are
    /// never used on a muxed session for exactly this reason, so the caller routes these away
    /// before ``parse(_:)``.
    public static func isRTCP(_ datagram: UnsafeRawBufferPointer) -> Bool {
        guard datagram.count >= 2, datagram[0] >> 6 == 2 else { return false }
        let type = datagram[1] & 0x7F
        return type >= 64 && type <= 95
    }

    /// The payload of `datagram` (the one this header was parsed from).
    public func payload(in datagram: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: datagram[payloadOffset..<(payloadOffset + payloadCount)])
    }
}

extension UnsafeRawBufferPointer {
    /// A big-endian 32-bit word at `offset` (unaligned); the caller checked the bounds.
    @inlinable
    func loadBigEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16 | UInt32(self[offset + 2]) << 8
            | UInt32(self[offset + 3])
    }
}
