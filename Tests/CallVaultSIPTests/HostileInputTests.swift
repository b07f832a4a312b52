import Testing

@testable import CallVaultSIP

/// What a hostile or broken SRC might send: each gives a typed error or a correct parse, never a
/// crash, and within a bounded time.
@Suite struct HostileInputTests {
    func invite(contentType: String, body: String, contentLength: Int? = nil) -> [UInt8] {
        let bytes = Array(body.utf8)
        let head = [
            "INVITE sip:acme@recorder.example SIP/2.0", "Via: SIP/2.0/UDP 192.0.2.66;branch=z9hG4bK-h",
            "Call-ID: hostile",
            "CSeq: 1 INVITE", "Require: siprec", "Content-Type: \(contentType)",
            "Content-Length: \(contentLength ?? bytes.count)",
        ]
        return Array((head.joined(separator: "\r\n") + "\r\n\r\n").utf8) + bytes
    }

    func offer(_ bytes: [UInt8]) throws -> SIPRECOffer {
        try SIPRECOffer.parse(try #require(try SIPMessage.parse(datagram: bytes)))
    }

    @Test func contentLengthLargerThanTheBody() {
        let bytes = invite(contentType: "application/sdp", body: "v=0\r\n", contentLength: 500)
        #expect(throws: SIPParseError.contentLengthExceedsBody(declared: 500, available: 5)) {
            try SIPMessage.parse(datagram: bytes)
        }
    }

    @Test func contentLengthSmallerThanTheBodyCutsTheBody() throws {
        let sdp = SIPFixtures.sdp(media: [("1", 1000, "sendonly")])
        let bytes = invite(
            contentType: "application/sdp",
            body: sdp + "m=audio 9 RTP/AVP 0\r\n",
            contentLength: sdp.utf8.count
        )
        #expect(try offer(bytes).sdp?.media.count == 1)
    }

    @Test func entityBombRefused() {
        var xml = "<?xml version=\"1.0\"?><!DOCTYPE recording ["
        xml += "<!ENTITY a0 \"bomb\">"
        for i in 1..<10 { xml += "<!ENTITY a\(i) \"" + String(repeating: "&a\(i - 1);", count: 10) + "\">" }
        xml += "]><recording xmlns=\"urn:ietf:params:xml:ns:recording:1\"><session>&a9;</session></recording>\r\n"
        let body = SIPFixtures.multipart(
            boundary: "b",
            parts: [("application/sdp", nil, "v=0\r\n"), ("application/rs-metadata+xml", "recording-session", xml)]
        )
        #expect(throws: SIPParseError.xmlDoctypeRefused) {
            try offer(invite(contentType: "multipart/mixed;boundary=b", body: body))
        }
    }

    @Test func undeclaredEntityRefused() {
        let xml = "<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\"><session>&xxe;</session></recording>"
        #expect(throws: SIPParseError.xmlUnknownEntity) { try RecordingMetadata.parse(Array(xml.utf8)) }
    }

    @Test func tenThousandMediaLinesRefusedQuickly() {
        let sdp = "v=0\r\n" + String(repeating: "m=audio 1 RTP/AVP 0\r\n", count: 10_000)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(throws: SIPParseError.tooManyMediaLines(limit: 64)) {
                try SDPSession.parse(Array(sdp.utf8), limits: SIPLimits(maxMessageBytes: 1 << 20))
            }
            // With the default limits the message itself is already too large.
            #expect(throws: SIPParseError.messageTooLarge(limit: 65_536)) {
                try SIPMessage.parse(datagram: invite(contentType: "application/sdp", body: sdp))
            }
        }
        #expect(elapsed < .seconds(2))
    }

    @Test func bodyWithoutClosingBoundary() {
        let body =
            "--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b\r\nContent-Type: application/rs-metadata+xml\r\n\r\n<recording"
        #expect(throws: SIPParseError.missingClosingBoundary) {
            try offer(invite(contentType: "multipart/mixed;boundary=b", body: body))
        }
    }

    @Test func headerLineOverTheLimit() {
        let bytes = Array(
            ("OPTIONS sip:a@b SIP/2.0\r\nX-Long: " + String(repeating: "a", count: 9000) + "\r\n\r\n").utf8
        )
        #expect(throws: SIPParseError.lineTooLong(line: 2, limit: 8192)) { try SIPMessage.parse(datagram: bytes) }
    }

    @Test func binaryGarbage() throws {
        var generator = SplitMix64(seed: 0x5157_4543)
        for length in [1, 2, 17, 300, 4096, 60_000] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = try? SIPMessage.parse(datagram: bytes)
            _ = try? SDPSession.parse(bytes)
            _ = try? RecordingMetadata.parse(bytes)
            _ = try? MultipartBody.parse(bytes, boundary: "b")
            var framer = SIPFramer()
            framer.append(bytes)
            _ = try? framer.nextMessage()
        }
        // Garbage after a valid head: the body is never read as headers.
        let head = Array("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 4\r\n\r\n".utf8)
        #expect(try SIPMessage.parse(datagram: head + [0, 255, 13, 10])?.body == [0, 255, 13, 10])
        // Invalid UTF-8 in a header value is replaced, not trusted.
        let bad = Array("OPTIONS sip:a@b SIP/2.0\r\nSubject: ".utf8) + [0xC3, 0x28, 0xFF] + Array("\r\n\r\n".utf8)
        #expect(try SIPMessage.parse(datagram: bad)?.headers.first("Subject")?.contains("\u{FFFD}") == true)
    }

    @Test func unbalancedQuotesAndAngles() throws {
        let quotes = "INVITE sip:a@b SIP/2.0\r\nContact: " + String(repeating: "\"", count: 3001) + "\r\n\r\n"
        let m = try #require(try SIPMessage.parse(datagram: Array(quotes.utf8)))
        #expect(throws: SIPParseError.unterminatedQuotedString) { try m.contacts() }
        let angles = "INVITE sip:a@b SIP/2.0\r\nContact: " + String(repeating: "<", count: 3000) + "\r\n\r\n"
        let n = try #require(try SIPMessage.parse(datagram: Array(angles.utf8)))
        #expect(throws: SIPParseError.malformedNameAddress) { try n.contacts() }
    }
}

/// A small seeded generator, so the garbage is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct HostileMetadataSizeTests {
    @Test func thousandsOfParticipantsAndStreamsStayCheap() throws {
        var xml = "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>"
        for i in 0..<580 {
            xml +=
                "<participant id='p\(i)'/><stream id='s\(i)' label='\(i)'/><participantstreamassoc participant_id='p\(i)'/>"
        }
        xml += "</recording>"
        let clock = ContinuousClock()
        var metadata: RecordingMetadata?
        let elapsed = try clock.measure {
            metadata = try RecordingMetadata.parse(Array(xml.utf8), limits: SIPLimits(maxXMLBytes: 1 << 20))
        }
        #expect(metadata?.participants.count == 580 && metadata?.streams.count == 580)
        #expect(elapsed < .seconds(2))
    }
}
