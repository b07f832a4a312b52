import Testing

@testable import CallVaultSIP

@Suite struct SDPSessionTests {
    let offer = SIPFixtures.crlf([
        "v=0", "o=- 1 2 IN IP4 192.0.2.1", "s=rec", "c=IN IP4 192.0.2.1", "t=0 0", "a=sendonly",
        "m=audio 6000 RTP/SAVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16",
        "a=label:caller",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 UNENCRYPTED_SRTCP",
        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj",
        "a=rtcp:6001 IN IP4 192.0.2.9",
        "m=audio 6002/2 RTP/AVP 111", "c=IN IP4 192.0.2.2", "a=rtpmap:111 opus/48000/2", "a=fmtp:111 useinbandfec=1",
        "a=label:agent", "a=recvonly", "a=rtcp-mux",
        "m=video 0 RTP/AVP 96",
    ])

    @Test func parsesSessionAndMedia() throws {
        let sdp = try SDPSession.parse(Array(offer.utf8))
        #expect(sdp.origin?.sessionVersion == "2")
        #expect(sdp.sessionName == "rec" && sdp.timing == "0 0")
        #expect(sdp.direction == .sendonly)
        #expect(sdp.media.count == 3)
        let a = sdp.media[0]
        #expect(a.kind == "audio" && a.port == 6000 && a.proto == "RTP/SAVP" && a.isSecure)
        #expect(a.payloadTypes == [0, 101])
        #expect(a.rtpmaps.map(\.encoding) == ["PCMU", "telephone-event"])
        #expect(a.fmtp[101] == "0-16")
        #expect(a.label == "caller")
        #expect(a.crypto.count == 2)
        #expect(a.crypto[0].suite == "AES_CM_128_HMAC_SHA1_80" && a.crypto[0].tag == 1)
        #expect(a.crypto[0].keyParams == ["inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4"])
        #expect(a.crypto[0].sessionParams == ["UNENCRYPTED_SRTCP"])
        #expect(a.rtcpPort == 6001 && a.rtcpAddress == "192.0.2.9" && !a.rtcpMux)
        #expect(sdp.direction(ofMedia: 0) == .sendonly)  // session default
        #expect(sdp.connection(ofMedia: 0)?.address == "192.0.2.1")
        let b = sdp.media[1]
        #expect(b.portCount == 2 && !b.isSecure && b.rtcpMux)
        #expect(b.rtpmaps.first == SDPRTPMap(payloadType: 111, encoding: "opus", clockRate: 48000, channels: 2))
        #expect(b.fmtp[111] == "useinbandfec=1")
        #expect(sdp.direction(ofMedia: 1) == .recvonly)
        #expect(sdp.connection(ofMedia: 1)?.address == "192.0.2.2")
        #expect(sdp.media[2].port == 0 && sdp.media[2].kind == "video")
    }

    @Test func directionDefaultsToSendrecv() throws {
        let sdp = try SDPSession.parse(Array("v=0\r\nm=audio 1 RTP/AVP 0\r\n".utf8))
        #expect(sdp.direction(ofMedia: 0) == .sendrecv)
    }

    @Test func malformedCryptoAndRtpmapAreKeptOnlyAsAttributes() throws {
        let sdp = try SDPSession.parse(Array("v=0\nm=audio 1 RTP/SAVP 0\na=crypto:x\na=rtpmap:999 X/0\n".utf8))
        #expect(sdp.media[0].crypto.isEmpty && sdp.media[0].rtpmaps.isEmpty)
        #expect(sdp.media[0].attributes.map(\.name) == ["crypto", "rtpmap"])
    }

    @Test(arguments: [
        ("o=x\r\n", SIPParseError.notSDP), ("v=1\r\n", .notSDP), ("", .notSDP),
        ("v=0\r\nthis is not sdp\r\n", .malformedSDPLine(line: 2)),
        ("v=0\r\nm=audio\r\n", .malformedMediaLine(line: 2)),
        ("v=0\r\nm=audio 70000 RTP/AVP 0\r\n", .malformedMediaLine(line: 2)),
        ("v=0\r\nm=audio x RTP/AVP 0\r\n", .malformedMediaLine(line: 2)),
    ])
    func refused(_ text: String, _ error: SIPParseError) {
        #expect(throws: error) { try SDPSession.parse(Array(text.utf8)) }
    }

    @Test func mediaLinesBounded() {
        let text = "v=0\r\n" + String(repeating: "m=audio 1 RTP/AVP 0\r\n", count: 65)
        #expect(throws: SIPParseError.tooManyMediaLines(limit: 64)) { try SDPSession.parse(Array(text.utf8)) }
    }
}
