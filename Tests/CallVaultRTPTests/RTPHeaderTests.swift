import Testing

@testable import CallVaultRTP

@Suite struct RTPHeaderTests {
    func parse(_ bytes: [UInt8]) throws(RTPParseError) -> RTPHeader {
        let result: Result<RTPHeader, RTPParseError> = bytes.withUnsafeBytes { raw in
            Result { () throws(RTPParseError) in try RTPHeader.parse(raw) }
        }
        return try result.get()
    }

    @Test func parsesFixedHeader() throws {
        let header = try parse(rtpPacket(pt: 8, seq: 0xABCD, ts: 0x0102_0304, ssrc: 0xDEAD_BEEF, marker: true, payload: [1, 2, 3]))
        #expect(header.payloadType == 8)
        #expect(header.marker)
        #expect(header.sequenceNumber == 0xABCD)
        #expect(header.timestamp == 0x0102_0304)
        #expect(header.ssrc == 0xDEAD_BEEF)
        #expect(header.payloadOffset == 12)
        #expect(header.payloadCount == 3)
    }

    @Test func skipsCSRCsAndExtension() throws {
        var bytes = rtpPacket(pt: 0, seq: 1, ts: 2, payload: [])
        bytes[0] = 0x80 | 0x10 | 2  // X bit, 2 CSRCs
        bytes += [0, 0, 0, 1, 0, 0, 0, 2]  // CSRCs
        bytes += [0xBE, 0xDE, 0, 1, 9, 9, 9, 9]  // extension: 1 word
        bytes += [7, 7]
        let header = try parse(bytes)
        #expect(header.csrcCount == 2)
        #expect(header.hasExtension)
        #expect(header.payloadOffset == 12 + 8 + 8)
        #expect(header.payloadCount == 2)
    }

    @Test func removesPadding() throws {
        var bytes = rtpPacket(pt: 0, seq: 1, ts: 2, payload: [5, 5, 5, 0, 0, 3])
        bytes[0] |= 0x20
        let header = try parse(bytes)
        #expect(header.paddingCount == 3)
        #expect(header.payloadCount == 3)
    }

    @Test func refusesWhatIsNotRTP() {
        #expect(throws: RTPParseError.tooShort(count: 11)) { try parse([UInt8](repeating: 0x80, count: 11)) }
        var v1 = rtpPacket(pt: 0, seq: 1, ts: 2, payload: [])
        v1[0] = 0x40
        #expect(throws: RTPParseError.unsupportedVersion(1)) { try parse(v1) }
        var csrc = rtpPacket(pt: 0, seq: 1, ts: 2, payload: [1, 2, 3])
        csrc[0] = 0x8F
        #expect(throws: RTPParseError.csrcListTruncated(csrcCount: 15, datagramSize: 15)) { try parse(csrc) }
        var ext = rtpPacket(pt: 0, seq: 1, ts: 2, payload: [0xBE, 0xDE, 0xFF, 0xFF])
        ext[0] |= 0x10
        #expect(throws: RTPParseError.extensionTruncated(datagramSize: 16)) { try parse(ext) }
        var zeroPad = rtpPacket(pt: 0, seq: 1, ts: 2, payload: [1, 0])
        zeroPad[0] |= 0x20
        #expect(throws: RTPParseError.invalidPadding(paddingCount: 0, available: 2)) { try parse(zeroPad) }
        var longPad = rtpPacket(pt: 0, seq: 1, ts: 2, payload: [1, 9])
        longPad[0] |= 0x20
        #expect(throws: RTPParseError.invalidPadding(paddingCount: 9, available: 2)) { try parse(longPad) }
    }

    @Test func errorMessagesSayWhatIsWrongWithoutBytes() {
        let message = RTPParseError.unsupportedVersion(0).description
        #expect(message.contains("version 0"))
        #expect(RTPParseError.invalidPadding(paddingCount: 9, available: 2).description.contains("padding count 9"))
    }

    @Test func detectsMuxedRTCP() {
        for type: UInt8 in 192...223 {
            let rr: [UInt8] = [0x81, type, 0, 7, 1, 2, 3, 4]
            #expect(rr.withUnsafeBytes { RTPHeader.isRTCP($0) })
        }
        for pt: UInt8 in [0, 8, 9, 13, 96, 101, 111, 127] {
            let rtp = rtpPacket(pt: pt, seq: 1, ts: 2, marker: true, payload: [])
            #expect(!rtp.withUnsafeBytes { RTPHeader.isRTCP($0) })
        }
    }
}
