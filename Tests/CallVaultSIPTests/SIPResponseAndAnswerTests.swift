import Testing

@testable import CallVaultSIP

@Suite("Responses, requests and SDP answers CallVault sends")
struct SIPResponseAndAnswerTests {
    static let invite = """
        INVITE sip:acme@rec.example SIP/2.0\r
        Via: SIP/2.0/UDP 10.0.0.7:5080;branch=z9hG4bKa1;rport, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb2\r
        Record-Route: <sip:sbc.example;lr>\r
        From: "Caller, Inc" <sip:+31201234567@carrier.example>;tag=f1\r
        To: <sip:acme@rec.example>\r
        Call-ID: c1@src\r
        CSeq: 7 INVITE\r
        Content-Length: 0\r
        \r

        """

    @Test func aResponseCopiesTheRightHeadersStampsRportAndAddsTheTag() throws {
        let request = try #require(try SIPMessage.parse(datagram: Array(Self.invite.utf8)))
        let response = SIPMessage.response(to: request, code: 200, toTag: "t9", source: ("192.0.2.5", 40_123))
        let vias = response.headers.values("Via")
        #expect(vias == ["SIP/2.0/UDP 10.0.0.7:5080;branch=z9hG4bKa1;rport=40123;received=192.0.2.5", "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb2"])
        #expect(response.headers.first("To") == "<sip:acme@rec.example>;tag=t9")
        #expect(response.headers.first("From") == "\"Caller, Inc\" <sip:+31201234567@carrier.example>;tag=f1")
        #expect(response.headers.first("CSeq") == "7 INVITE")
        #expect(response.headers.values("Record-Route") == ["<sip:sbc.example;lr>"])
        // A 100 carries no tag; a reason detail cannot smuggle a line break onto the wire.
        let trying = SIPMessage.response(to: request, code: 100, toTag: "t9")
        #expect(trying.headers.first("To") == "<sip:acme@rec.example>")
        let bad = SIPMessage.response(to: request, code: 400, reasonDetail: "bad\r\nX-Injected: 1", toTag: "t9")
        let wire = String(decoding: bad.serialized(), as: UTF8.self)
        #expect(wire.hasPrefix("SIP/2.0 400 Bad Request (bad  X-Injected: 1)\r\n"))
        #expect(!wire.contains("\r\nX-Injected"))
        // Serialized, it parses back to the same message, with a true Content-Length.
        var withBody = response
        withBody.headers.append(name: "Content-Length", value: "999")
        withBody.body = Array("v=0\r\n".utf8)
        let parsed = try #require(try SIPMessage.parse(datagram: withBody.serialized()))
        #expect(parsed.body == withBody.body)
        #expect(try parsed.headers.contentLength() == 5)
    }

    @Test func aByeGoesToTheRemoteTargetThroughTheRouteSet() {
        let bye = SIPMessage.request(
            "BYE", remoteTarget: "sip:src@10.0.0.7:5080", routeSet: ["<sip:sbc.example;lr>"],
            via: "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx", from: "<sip:acme@rec.example>;tag=t9",
            to: "<sip:+31201234567@carrier.example>;tag=f1", callID: "c1@src", cseq: 2)
        #expect(bye.requestURI == "sip:src@10.0.0.7:5080")
        #expect(bye.headers.values("Route") == ["<sip:sbc.example;lr>"])
        #expect(bye.headers.first("CSeq") == "2 BYE")
    }

    @Test func theAnswerIsRecvonlyPerStreamEchoesLabelsAndRefusesWithPortZero() throws {
        let offer = try SDPSession.parse(Array("""
            v=0\r
            o=SRC 1 1 IN IP4 10.0.0.7\r
            s=-\r
            c=IN IP4 10.0.0.7\r
            t=0 0\r
            m=audio 4000 RTP/AVP 8 0 101\r
            a=rtpmap:101 telephone-event/8000\r
            a=label:10\r
            a=sendonly\r
            m=audio 4002 RTP/AVP 0\r
            a=label:11\r
            a=inactive\r
            m=video 4004 RTP/AVP 96\r
            a=label:12\r

            """.utf8))
        #expect(offer.media[0].offeredCodecs.map(\.encoding) == ["PCMA", "PCMU", "telephone-event"])
        let streams = [
            SDPAnswer.Stream(port: 30_000, codecs: offer.media[0].offeredCodecs, fmtp: [101: "0-16"]),
            SDPAnswer.Stream(port: 30_002, codecs: offer.media[1].offeredCodecs), .refused,
        ]
        let text = String(decoding: SDPAnswer.render(offer: offer, streams: streams, address: "192.0.2.1", sessionID: 5, version: 2), as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.contains("o=CallVault 5 2 IN IP4 192.0.2.1"))
        #expect(lines.contains("m=audio 30000 RTP/AVP 8 0 101"))
        #expect(lines.contains("a=fmtp:101 0-16"))
        #expect(lines.contains("m=audio 30002 RTP/AVP 0"))
        #expect(lines.contains("m=video 0 RTP/AVP 96"))
        #expect(lines.filter { $0.hasPrefix("a=label:") } == ["a=label:10", "a=label:11", "a=label:12"])
        #expect(lines.filter { $0 == "a=recvonly" }.count == 1)
        #expect(lines.filter { $0 == "a=inactive" }.count == 1, "a paused stream is answered inactive")
        #expect(text.hasSuffix("\r\n"))
    }

    @Test func uRIsSessionTimersAndTheirErrors() throws {
        let uri = try SIPURI.parse("<sip:ac%6De;user=phone@[2001:db8::1]:5070;transport=tcp>")
        #expect(uri.user == "acme")
        #expect(uri.host == "[2001:db8::1]")
        #expect(uri.port == 5070)
        #expect(try SIPURI.parse("sip:rec.example").user == nil)
        #expect(throws: SIPParseError.malformedURI) { try SIPURI.parse("tel:+3120") }
        #expect(throws: SIPParseError.malformedURI) { try SIPURI.parse("sip:a@host:99999") }
        #expect(throws: SIPParseError.malformedURI) { try SIPURI.parse("sip:%zz@host") }

        func message(_ headers: String) throws -> SIPMessage {
            try #require(try SIPMessage.parse(datagram: Array("OPTIONS sip:a@b SIP/2.0\r\n\(headers)\r\n".utf8)))
        }
        #expect(try SIPSessionTimer.answer(try message("Session-Expires: 1800;refresher=uas\r\nSupported: timer\r\n")) == SIPSessionTimer(seconds: 1800, refresher: "uac"))
        #expect(try SIPSessionTimer.answer(try message("Supported: timer\r\n"))?.seconds == SIPSessionTimer.defaultSeconds)
        #expect(try SIPSessionTimer.answer(try message("")) == nil)
        #expect(throws: SIPParseError.malformedSessionExpires) { try SIPSessionTimer.answer(try message("Session-Expires: soon\r\n")) }
    }
}
