// Hand-written SIPREC INVITEs, one per vendor flavour described in the research note
// (/work/shared/research/siprec.md §1). Written for these tests; no third-party capture is copied.

enum SIPFixtures {
    /// Joins lines with CRLF and fills in Content-Length from the body.
    static func message(_ head: [String], body: String = "") -> [UInt8] {
        let bodyBytes = Array(body.utf8)
        var lines = head
        lines.append("Content-Length: \(bodyBytes.count)")
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) + bodyBytes
    }

    static func crlf(_ lines: [String]) -> String { lines.joined(separator: "\r\n") + "\r\n" }

    static func sdp(
        media: [(label: String?, port: Int, direction: String)],
        proto: String = "RTP/AVP",
        extra: [String] = []
    )
        -> String
    {
        var lines = ["v=0", "o=SRC 2890844526 2890844527 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0"]
        for m in media {
            lines.append("m=audio \(m.port) \(proto) 0 8 101")
            lines.append("a=rtpmap:0 PCMU/8000")
            lines.append("a=rtpmap:8 PCMA/8000")
            lines.append("a=rtpmap:101 telephone-event/8000")
            lines.append("a=fmtp:101 0-15")
            if let label = m.label { lines.append("a=label:\(label)") }
            lines.append("a=\(m.direction)")
            lines += extra
        }
        return crlf(lines)
    }

    static func multipart(boundary: String, parts: [(type: String, disposition: String?, body: String)]) -> String {
        var out = "This is a preamble a recorder must ignore.\r\n"
        for part in parts {
            out += "--\(boundary)\r\nContent-Type: \(part.type)\r\n"
            if let disposition = part.disposition { out += "Content-Disposition: \(disposition)\r\n" }
            out += "\r\n" + part.body
        }
        return out + "--\(boundary)--\r\nepilogue\r\n"
    }

    static func inviteHead(contact: String, extra: [String], contentType: String) -> [String] {
        [
            "INVITE sip:acme@recorder.example SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-src-1;rport",
            "Max-Forwards: 70",
            "From: <sip:src@sbc.example>;tag=src-tag-1",
            "To: <sip:acme@recorder.example>",
            "Call-ID: 7f3c1e2a@sbc.example",
            "CSeq: 1 INVITE",
            "Contact: \(contact)",
        ] + extra + ["Content-Type: \(contentType)"]
    }

    /// RFC 7866 / RFC 7865: Require: siprec, +sip.src, SDP first, metadata with participantstreamassoc.
    static let rfc7866Metadata = crlf([
        #"<?xml version="1.0" encoding="UTF-8"?>"#,
        #"<recording xmlns="urn:ietf:params:xml:ns:recording:1">"#,
        "  <datamode>complete</datamode>",
        #"  <session session_id="c2Vzc2lvbi0x"><sipSessionID>abc;remote=def</sipSessionID></session>"#,
        #"  <participant participant_id="cGFydC1h"><nameID aor="sip:+15551230001@carrier.example"><name xml:lang="en">Customer &amp; Co</name></nameID></participant>"#,
        #"  <participant participant_id="cGFydC1i"><nameID aor="sip:agent7@acme.example"/></participant>"#,
        #"  <stream stream_id="c3RyZWFtLTE=" session_id="c2Vzc2lvbi0x"><label>1</label></stream>"#,
        #"  <stream stream_id="c3RyZWFtLTI=" session_id="c2Vzc2lvbi0x"><label>2</label></stream>"#,
        #"  <participantstreamassoc participantstreamassoc_id="YXNzb2MtYQ==" participant_id="cGFydC1h"><send>c3RyZWFtLTE=</send><recv>c3RyZWFtLTI=</recv></participantstreamassoc>"#,
        #"  <participantstreamassoc participantstreamassoc_id="YXNzb2MtYg==" participant_id="cGFydC1i"><send>c3RyZWFtLTI=</send><recv>c3RyZWFtLTE=</recv></participantstreamassoc>"#,
        "</recording>",
    ])

    static var rfc7866Invite: [UInt8] {
        let body = multipart(
            boundary: "unique-boundary-1",
            parts: [
                (
                    "application/sdp", "session;handling=required",
                    sdp(media: [("1", 20000, "sendonly"), ("2", 20002, "sendonly")])
                ),
                ("application/rs-metadata+xml", "recording-session", rfc7866Metadata),
            ]
        )
        return message(
            inviteHead(
                contact: "<sip:src@192.0.2.10:5060>;+sip.src",
                extra: ["Require: siprec", "Supported: timer, 100rel"],
                contentType: #"multipart/mixed;boundary="unique-boundary-1""#
            ),
            body: body
        )
    }

    /// Oracle/Acme draft metadata: namespace without :1, `id=` attributes, nested send/recv in the
    /// participant, an apkt: extension element, compact header names.
    static let acmeMetadata = crlf([
        #"<?xml version='1.0' encoding='UTF-8'?>"#,
        #"<recording xmlns='urn:ietf:params:xml:ns:recording' xmlns:apkt='http://acmepacket.com/siprec/extensiondata'>"#,
        "<datamode>complete</datamode>",
        "<session id='U0VTU0lPTg=='><associate-time>2026-12-06T02:00:00</associate-time></session>",
        "<participant id='UEFSVC1DVVNU' session='U0VTU0lPTg=='>",
        "<nameID aor='sip:5551230001@203.0.113.5'><name>5551230001</name></nameID>",
        "<send>U1RSLUNVU1Q=</send><recv>U1RSLUFHRU5U</recv>",
        "</participant>",
        "<participant id='UEFSVC1BR0VOVA==' session='U0VTU0lPTg=='>",
        "<nameID aor='sip:4000@pbx.acme.example'><name>Agent 4000</name></nameID>",
        "<send>U1RSLUFHRU5U</send><recv>U1RSLUNVU1Q=</recv>",
        "</participant>",
        "<stream id='U1RSLUNVU1Q=' session='U0VTU0lPTg=='><label>276</label><mode>separate</mode></stream>",
        "<stream id='U1RSLUFHRU5U' session='U0VTU0lPTg=='><label>277</label><mode>separate</mode></stream>",
        "<apkt:ucid>00FA080018803B69810C</apkt:ucid>",
        "</recording>",
    ])

    static var acmeInvite: [UInt8] {
        let body = multipart(
            boundary: "boundary-acme",
            parts: [
                ("application/sdp", nil, sdp(media: [("276", 30000, "sendonly"), ("277", 30002, "sendonly")])),
                ("application/rs-metadata+xml", "recording-session", acmeMetadata),
            ]
        )
        return message(
            [
                "INVITE sip:acme@recorder.example:5060;transport=udp SIP/2.0",
                "v: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-acme-9",
                "f: \"SBC, Acme\" <sip:srs@198.51.100.7>;tag=acme-1",
                "t: <sip:acme@recorder.example>",
                "i: 3a1b-acme@198.51.100.7",
                "CSeq: 10 INVITE",
                "m: <sip:srs@198.51.100.7:5060;transport=udp>;+sip.src",
                "k: siprec",
                "Require: siprec",
                "c: multipart/mixed;boundary=boundary-acme",
            ],
            body: body
        )
    }

    /// BroadWorks/Webex: no Require, `;src` Contact, metadata part first, the siprec namespace with a
    /// prefixed root.
    static let broadWorksMetadata = crlf([
        #"<?xml version="1.0" encoding="UTF-8"?>"#,
        #"<rs:recording xmlns:rs="urn:ietf:params:xml:ns:siprec">"#,
        "<rs:datamode>complete</rs:datamode>",
        #"<rs:session session_id="YndzLXNlc3Npb24="/>"#,
        #"<rs:participant participant_id="YndzLWFnZW50"><rs:nameID aor="sip:2001@acme.example"/></rs:participant>"#,
        #"<rs:participant participant_id="YndzLWN1c3Q="><rs:nameID aor="tel:+15551230002"/></rs:participant>"#,
        #"<rs:stream stream_id="YndzLXMx" session_id="YndzLXNlc3Npb24="><rs:label>a1</rs:label></rs:stream>"#,
        #"<rs:stream stream_id="YndzLXMy" session_id="YndzLXNlc3Npb24="><rs:label>a2</rs:label></rs:stream>"#,
        #"<rs:participantstreamassoc participant_id="YndzLWFnZW50"><rs:send>YndzLXMx</rs:send></rs:participantstreamassoc>"#,
        #"<rs:participantstreamassoc participant_id="YndzLWN1c3Q="><rs:send>YndzLXMy</rs:send></rs:participantstreamassoc>"#,
        "</rs:recording>",
    ])

    static var broadWorksInvite: [UInt8] {
        let body = multipart(
            boundary: "BW-boundary",
            parts: [
                ("application/rs-metadata+xml", "recording-session", broadWorksMetadata),
                ("application/sdp", "session", sdp(media: [("a1", 40000, "sendonly"), ("a2", 40002, "sendonly")])),
            ]
        )
        return message(
            inviteHead(
                contact: "<sip:bw@192.0.2.20:5060;transport=tcp>;src",
                extra: ["Supported: 100rel, timer"],
                contentType: #"multipart/mixed; boundary="BW-boundary""#
            ),
            body: body
        )
    }

    /// Cisco CUBE: an extra application/gtd part, an `inactive` initial offer, CN on PT 19, siprec
    /// beside 100rel in Require.
    static var ciscoInvite: [UInt8] {
        let gtd = crlf(["IAM,", "PRN,isdn*,,NET5*,", "USI,rate,c,s,c,1", "CPN,00,,1,5551230003"])
        let sdpBody = crlf([
            "v=0", "o=CiscoSystemsSIP-GW-UserAgent 1234 5678 IN IP4 192.0.2.30", "s=SIP Call", "c=IN IP4 192.0.2.30",
            "t=0 0", "a=inactive",
            "m=audio 16384 RTP/AVP 0 19", "a=rtpmap:0 PCMU/8000", "a=rtpmap:19 CN/8000", "a=label:1",
            "m=audio 16386 RTP/AVP 0 19", "a=rtpmap:0 PCMU/8000", "a=rtpmap:19 CN/8000", "a=label:2",
        ])
        let body = multipart(
            boundary: "uniqueBoundary",
            parts: [
                ("application/sdp", nil, sdpBody),
                ("application/gtd", "signal;handling=optional", gtd),
                ("application/rs-metadata+xml", "recording-session", rfc7866Metadata),
            ]
        )
        return message(
            inviteHead(
                contact: "<sip:cube@192.0.2.30:5060>;+sip.src",
                extra: ["Require: 100rel, siprec", "Allow: INVITE, ACK, BYE"],
                contentType: "multipart/mixed;boundary=uniqueBoundary"
            ),
            body: body
        )
    }

    /// Cisco network-based recording: plain SDP, no metadata, no SIPREC marks at all.
    static var noMetadataInvite: [UInt8] {
        message(
            inviteHead(contact: "<sip:nbr@192.0.2.31:5060>", extra: [], contentType: "application/sdp"),
            body: sdp(media: [("1", 50000, "sendonly"), ("2", 50002, "sendonly")])
        )
    }
}
