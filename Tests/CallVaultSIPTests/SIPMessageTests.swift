import Testing

@testable import CallVaultSIP

@Suite struct SIPMessageTests {
    func parse(_ text: String, limits: SIPLimits = .default) throws -> SIPMessage {
        guard let message = try SIPMessage.parse(datagram: Array(text.utf8), limits: limits) else {
            Issue.record("keep-alive where a message was expected")
            throw SIPParseError.emptyMessage
        }
        return message
    }

    @Test func requestLineHeadersAndBody() throws {
        let m = try parse(
            "OPTIONS sip:acme@recorder.example SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1;rport\r\n"
                + "CSeq: 42 OPTIONS\r\nCall-ID: abc@x\r\nContent-Length: 4\r\n\r\nbodyEXTRA"
        )
        #expect(m.method == "OPTIONS")
        #expect(m.requestURI == "sip:acme@recorder.example")
        #expect(m.callID == "abc@x")
        #expect(m.body == Array("body".utf8))  // bytes past Content-Length in a datagram are dropped
        #expect(try m.cseq() == SIPCSeq(number: 42, method: "OPTIONS"))
        let via = try #require(try m.vias().first)
        #expect(via.transport == "UDP" && via.host == "192.0.2.1" && via.port == 5070)
        #expect(via.branch == "z9hG4bK1" && via.hasRport && via.rportValue == nil)
    }

    @Test func statusLine() throws {
        let m = try parse("SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n\r\n")
        #expect(m.statusCode == 486)
        #expect(m.startLine == .response(code: 486, reason: "Busy Here"))
    }

    @Test func compactFormsAndCaseInsensitiveNames() throws {
        let m = try parse(
            "INVITE sip:a@b SIP/2.0\r\ni: cid\r\nm: <sip:x@y>;+sip.src\r\nf: <sip:f@y>;tag=1\r\nt: <sip:t@y>\r\n"
                + "v: SIP/2.0/TCP h\r\nl: 0\r\nk: siprec\r\ns: hi\r\ne: gzip\r\nc: application/sdp\r\nCONTENT-length: 0\r\n\r\n"
        )
        #expect(m.callID == "cid")
        #expect(m.headers.first("call-id") == "cid")
        #expect(m.headers.first("From") == "<sip:f@y>;tag=1")
        #expect(m.headers.first("TO") == "<sip:t@y>")
        #expect(m.headers.first("Subject") == "hi")
        #expect(m.headers.first("Content-Encoding") == "gzip")
        #expect(m.headers.hasOptionTag("SIPREC", in: "Supported"))
        #expect(try m.contentType()?.essence == "application/sdp")
        #expect(try m.headers.contentLength() == 0)
        #expect(try m.contacts().first?.parameters.parameter("+sip.src") != nil)
        #expect(try m.vias().first?.transport == "TCP")
    }

    @Test func foldedHeaders() throws {
        let m = try parse("BYE sip:a@b SIP/2.0\r\nSubject: first\r\n  second\r\n\tthird\r\nCall-ID: x\r\n\r\n")
        #expect(m.headers.first("Subject") == "first second third")
        #expect(m.callID == "x")
    }

    @Test func listsSplitOutsideQuotesAndAngles() throws {
        let m = try parse(
            "INVITE sip:a@b SIP/2.0\r\nContact: \"Doe, John \\\"JD\\\"\" <sip:j@h;x=a,b>;q=0.5, <sip:k@h>\r\n"
                + "Via: SIP/2.0/UDP a:1;branch=z9hG4bKa, SIP / 2.0 / UDP [2001:db8::1]:5062;branch=z9hG4bKb;rport=9;received=1.2.3.4\r\n"
                + "Via: SIP/2.0/TLS c;branch=z9hG4bKc\r\n\r\n"
        )
        let contacts = try m.contacts()
        #expect(contacts.count == 2)
        #expect(contacts[0].displayName == "Doe, John \"JD\"")
        #expect(contacts[0].uri == "sip:j@h;x=a,b")
        #expect(contacts[0].parameters.parameter("q")?.value == "0.5")
        #expect(contacts[1].uri == "sip:k@h")
        let vias = try m.vias()
        #expect(vias.map(\.branch) == ["z9hG4bKa", "z9hG4bKb", "z9hG4bKc"])
        #expect(vias[1].host == "[2001:db8::1]" && vias[1].port == 5062 && vias[1].rportValue == 9)
        #expect(vias[1].received == "1.2.3.4")
    }

    @Test func bareLineFeedsAccepted() throws {
        let m = try parse("ACK sip:a@b SIP/2.0\nCall-ID: z\nContent-Length: 0\n\n")
        #expect(m.method == "ACK" && m.callID == "z")
    }

    @Test func keepAliveDatagramIsNil() throws {
        #expect(try SIPMessage.parse(datagram: Array("\r\n\r\n".utf8)) == nil)
    }

    @Test func missingContentLengthInDatagramTakesTheRest() throws {
        let m = try parse("MESSAGE sip:a@b SIP/2.0\r\nCall-ID: z\r\n\r\nhello")
        #expect(m.body == Array("hello".utf8))
    }

    @Test(arguments: [
        (
            "INVITE sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nshort",
            SIPParseError.contentLengthExceedsBody(declared: 10, available: 5)
        ),
        ("INVITE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n", .malformedContentLength),
        ("INVITE sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab", .conflictingContentLength),
        ("INVITE sip:a@b SIP/3.0\r\n\r\n", .unsupportedVersion),
        ("SIP/2.0 9999 Nope\r\n\r\n", .malformedStatusCode),
        ("INVITE\r\n\r\n", .malformedStartLine),
        ("INVITE sip:a@b SIP/2.0\r\nNoColonHere\r\n\r\n", .malformedHeader(line: 2)),
        ("INVITE sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n", .invalidHeaderName(line: 2)),
        ("INVITE sip:a@b SIP/2.0\r\n folded-first\r\n\r\n", .foldedLineWithoutHeader(line: 2)),
        ("INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\n", .incompleteMessage),
    ])
    func refused(_ text: String, _ error: SIPParseError) {
        #expect(throws: error) { try SIPMessage.parse(datagram: Array(text.utf8)) }
    }

    @Test func badViaAndCSeqAreTypedErrors() throws {
        let m = try parse("INVITE sip:a@b SIP/2.0\r\nVia: HTTP/1.1 host\r\nCSeq: many INVITE\r\n\r\n")
        #expect(throws: SIPParseError.malformedVia) { try m.vias() }
        #expect(throws: SIPParseError.malformedCSeq) { try m.cseq() }
        let q = try parse("INVITE sip:a@b SIP/2.0\r\nContact: \"unterminated <sip:a@b>\r\n\r\n")
        #expect(throws: SIPParseError.unterminatedQuotedString) { try q.contacts() }
    }

    @Test func limits() {
        let limits = SIPLimits(maxMessageBytes: 2048, maxHeaders: 4, maxLineBytes: 100)
        let long = "INVITE sip:a@b SIP/2.0\r\nSubject: " + String(repeating: "x", count: 200) + "\r\n\r\n"
        #expect(throws: SIPParseError.lineTooLong(line: 2, limit: 100)) {
            try SIPMessage.parse(datagram: Array(long.utf8), limits: limits)
        }
        let folded =
            "INVITE sip:a@b SIP/2.0\r\nSubject: a\r\n"
            + String(repeating: " " + String(repeating: "y", count: 60) + "\r\n", count: 3) + "\r\n"
        #expect(throws: SIPParseError.lineTooLong(line: 4, limit: 100)) {
            try SIPMessage.parse(datagram: Array(folded.utf8), limits: limits)
        }
        let many = "INVITE sip:a@b SIP/2.0\r\n" + String(repeating: "X-A: 1\r\n", count: 5) + "\r\n"
        #expect(throws: SIPParseError.tooManyHeaders(limit: 4)) {
            try SIPMessage.parse(datagram: Array(many.utf8), limits: limits)
        }
        let big = [UInt8](repeating: 65, count: 4096)
        #expect(throws: SIPParseError.messageTooLarge(limit: 2048)) {
            try SIPMessage.parse(datagram: big, limits: limits)
        }
    }

    @Test func errorMessagesSayWhatWasWrongWithoutEchoingInput() {
        let secret = String(repeating: "S", count: 5000)
        let error = SIPParseError.unsupportedContentType(secret)
        #expect(error.description.count < 200)
        #expect(SIPParseError.contentLengthExceedsBody(declared: 10, available: 5).description.contains("10"))
    }
}

/// Odd but legal spellings in the spirit of RFC 4475's torture messages (written here, not copied).
@Suite struct SIPTortureTests {
    @Test func unusualWhitespaceAndCase() throws {
        let text =
            "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\nTO :\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n"
            + "from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8\r\n"
            + "MaX-fOrWaRdS: 0068\r\nCall-ID: wsinv.ndaksdj@192.0.2.1\r\ncseq: 0009\r\n  INVITE\r\n"
            + "Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;rport;branch=390skdjuw\r\nv:  SIP/2.0/TCP spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n"
            + " SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239\r\nl: 0\r\n\r\n"
        let m = try #require(try SIPMessage.parse(datagram: Array(text.utf8)))
        #expect(m.requestURI == "sip:vivekg@chair-dnrc.example.com;unknownparam")
        #expect(try m.cseq() == SIPCSeq(number: 9, method: "INVITE"))
        #expect(m.headers.first("max-forwards") == "0068")
        let from = try SIPNameAddress.parse(try #require(m.headers.first("From")))
        #expect(from.displayName == "J Rosenberg \\\"")
        #expect(from.parameters.parameter("tag")?.value == "98asjd8")
        let to = try SIPNameAddress.parse(try #require(m.headers.first("To")))
        #expect(to.uri == "sip:vivekg@chair-dnrc.example.com" && to.parameters.parameter("TAG")?.value == "1918181833n")
        let vias = try m.vias()
        #expect(vias.map(\.host) == ["192.0.2.2", "spindle.example.com", "192.168.255.111"])
        #expect(vias.map(\.branch) == ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"])
        #expect(vias.map(\.transport) == ["UDP", "TCP", "UDP"])
    }
}
