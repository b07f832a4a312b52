import Testing

@testable import CallVaultSIP

@Suite struct MultipartBodyTests {
    func body(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test(arguments: [
        #"multipart/mixed;boundary="b1""#, "multipart/mixed; boundary=b1", #"Multipart/Mixed ; BOUNDARY = "b1" ; x=y"#,
    ])
    func boundaryQuotedOrNot(_ contentType: String) throws {
        let text =
            "preamble\r\n--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\nepilogue"
        let parsed = try MultipartBody.parse(body(text), contentType: try SIPMediaType.parse(contentType))
        #expect(parsed.parts.count == 2)
        #expect(parsed.parts[0].contentType?.essence == "application/sdp")
        #expect(parsed.parts[0].body == body("v=0"))  // the CRLF before a delimiter is the delimiter's
        #expect(parsed.parts[1].body == body("hi"))
    }

    @Test func dispositionAndHeaderlessPart() throws {
        let text =
            "--x\r\nContent-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session;handling=required\r\n\r\n<r/>\r\n--x\r\n\r\nno headers\r\n--x\r\nContent-Type: text/plain\r\n--x--"
        let parsed = try MultipartBody.parse(body(text), boundary: "x")
        #expect(parsed.parts[0].disposition == "recording-session")
        #expect(parsed.parts[1].contentType == nil && parsed.parts[1].body == body("no headers"))
        #expect(parsed.parts[2].contentType?.essence == "text/plain" && parsed.parts[2].body.isEmpty)
        #expect(parsed.part(ofType: "application/rs-metadata+xml")?.body == body("<r/>"))
    }

    @Test func delimiterOnlyAtLineStart() throws {
        let text = "--b\r\n\r\ntext with --b inside\r\n--b--"
        #expect(try MultipartBody.parse(body(text), boundary: "b").parts[0].body == body("text with --b inside"))
    }

    @Test func errors() throws {
        #expect(throws: SIPParseError.missingClosingBoundary) {
            try MultipartBody.parse(body("--b\r\nContent-Type: a/b\r\n\r\nbody without end\r\n"), boundary: "b")
        }
        #expect(throws: SIPParseError.missingOpeningBoundary) {
            try MultipartBody.parse(body("nothing here"), boundary: "b")
        }
        #expect(throws: SIPParseError.missingOpeningBoundary) {
            try MultipartBody.parse(body("--b--\r\n"), boundary: "b")
        }
        #expect(throws: SIPParseError.missingBoundary) {
            try MultipartBody.parse(body("--b--"), contentType: try SIPMediaType.parse("multipart/mixed"))
        }
        #expect(throws: SIPParseError.invalidBoundary) {
            try MultipartBody.parse(body(""), boundary: String(repeating: "b", count: 71))
        }
        let many = String(repeating: "--b\r\n\r\nx\r\n", count: 20) + "--b--"
        #expect(throws: SIPParseError.tooManyParts(limit: 8)) { try MultipartBody.parse(body(many), boundary: "b") }
    }
}

@Suite struct SIPMediaTypeTests {
    @Test func refusesWithoutSubtype() {
        #expect(throws: SIPParseError.malformedContentType) { try SIPMediaType.parse("multipart") }
        #expect(throws: SIPParseError.malformedContentType) { try SIPMediaType.parse("/x") }
    }
}
