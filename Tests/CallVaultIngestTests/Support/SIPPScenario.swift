import CallVaultTestSupport
import Foundation
import Testing

/// sipp scenarios written for CallVault: an SBC's SIPREC client (SRC) per vendor flavour, driving a
/// whole session — INVITE, ACK, a re-INVITE that pauses (`inactive`), one that resumes, a
/// metadata-only UPDATE, BYE — with every answer checked by sipp itself (`check_it` regexps).
enum SIPPScenario {
    /// How an SRC dresses its INVITE (see docs/siprec.md, metadata variants).
    enum Flavour: String, CaseIterable, Sendable {
        /// RFC 7866: `Require: siprec`, `+sip.src`, RFC 7865 metadata after the SDP.
        case rfc7866
        /// Oracle/Acme draft metadata (old namespace, `id=` attributes), compact header names.
        case acmeDraft
        /// No metadata at all (Cisco NBR, old OpenSIPS): `Supported: siprec`, plain SDP, label order.
        case noMetadata
        /// BroadWorks: no Require, `;src` on the Contact, the metadata part first.
        case broadWorks
    }

    /// The sipp binary: `CALLVAULT_TEST_SIPP` (scripts/test), else `sipp` on PATH; nil when missing.
    static var binary: String? {
        if let path = ProcessInfo.processInfo.environment["CALLVAULT_TEST_SIPP"], !path.isEmpty { return path }
        for directory in ["/usr/bin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: directory + "/sipp") {
            return directory + "/sipp"
        }
        return nil
    }

    /// Runs `scenario` once against a SIP server on 127.0.0.1; returns sipp's exit status (0: every
    /// message as scripted), its output (the error trace on failure) and the SIP Call-ID it used.
    static func run(_ scenario: String, port: Int, service: String = "acme", directory: String, extra: [String] = [])
        throws -> (status: Int32, output: String, callID: String)
    {
        let prefix = "sipp-" + UUID().uuidString.prefix(8)
        let sipp = try #require(binary, "sipp is not installed: run scripts/services install sipp")
        let file = directory + "/scenario-\(UUID().uuidString).xml"
        try scenario.write(toFile: file, atomically: true, encoding: .utf8)
        let local = try freeUDPPort()
        let result = try ChildProcess.run(
            URL(fileURLWithPath: sipp),
            ["-sf", file, "-s", service, "-i", "127.0.0.1", "-p", "\(local)", "-mp", "\(try freeUDPPort(block: true))",
             "-m", "1", "-cid_str", prefix + "-%u", "-timeout", "30s", "-timeout_error", "-trace_err", "-error_file", file + ".errors"] + extra
                + ["127.0.0.1:\(port)"],
            timeout: .seconds(60))
        let errors = (try? String(contentsOfFile: file + ".errors", encoding: .utf8)) ?? ""
        return (result.status, result.stdout.suffix(2000) + "\n" + errors.suffix(4000), prefix + "-1")
    }

    /// A UDP port free now on 127.0.0.1; with `block`, an even one whose next three are free too (sipp's
    /// `-mp` takes audio RTP and RTCP there, and video on the two after).
    static func freeUDPPort(block: Bool = false) throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 40_000...59_000) & ~3
            let count = block ? 4 : 1
            let sockets = (0..<count).map { _ in socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0) }
            defer { for fd in sockets { close(fd) } }
            if sockets.indices.allSatisfy({ bindUDP(sockets[$0], port + $0) }) { return port }
        }
        throw POSIXError(.EADDRINUSE)
    }

    private static func bindUDP(_ fd: Int32, _ port: Int) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    // MARK: Scenarios

    /// The whole session of one flavour. `media` is played after the first ACK (a pcap, `holdMs` before
    /// the pause), `pausedMedia` while the streams are `inactive` (`pausedMs` long): it must not be kept.
    static func session(
        _ flavour: Flavour, media: String? = nil, holdMs: Int = 300, pausedMedia: String? = nil, pausedMs: Int = 200
    ) -> String {
        let c = flavour == .acmeDraft
        let h = (via: c ? "v" : "Via", from: c ? "f" : "From", to: c ? "t" : "To", callID: c ? "i" : "Call-ID",
                 contact: c ? "m" : "Contact", type: c ? "c" : "Content-Type", length: c ? "l" : "Content-Length")
        let contact: String
        let options: String
        switch flavour {
        case .rfc7866: (contact, options) = ("<sip:src@[local_ip]:[local_port]>;+sip.src", "Require: siprec\n")
        case .acmeDraft: (contact, options) = ("<sip:src@[local_ip]:[local_port]>;+sip.src", "Require: siprec\nSupported: timer\n")
        case .noMetadata: (contact, options) = ("<sip:src@[local_ip]:[local_port]>", "Supported: siprec\n")
        case .broadWorks: (contact, options) = ("<sip:src@[local_ip]:[local_port]>;src", "")
        }
        func head(_ method: String, _ cseq: Int, inDialog: Bool) -> String {
            """
            \(method) sip:[service]@[remote_ip]:[remote_port] SIP/2.0
            \(h.via): SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
            \(h.from): <sip:+31201234567@src.test>;tag=[pid]SIPpTag00[call_number]
            \(inDialog ? "[last_To:]" : "\(h.to): <sip:[service]@[remote_ip]:[remote_port]>")
            \(h.callID): [call_id]
            CSeq: \(cseq) \(method)
            \(h.contact): \(contact)
            Max-Forwards: 70

            """
        }
        func request(_ method: String, _ cseq: Int, inDialog: Bool = true, type: String? = nil, body: String = "") -> String {
            var text = head(method, cseq, inDialog: inDialog)
            if method == "INVITE" && !inDialog { text += options }
            if let type { text += "\(h.type): \(type)\n" }
            text += "\(h.length): [len]\n\n" + body
            return "  <send retrans=\"500\">\n    <![CDATA[\n\(text)\n]]>\n  </send>\n"
        }
        func ack(_ cseq: Int) -> String {
            let text = """
                ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
                \(h.via): SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
                \(h.from): <sip:+31201234567@src.test>;tag=[pid]SIPpTag00[call_number]
                [last_To:]
                \(h.callID): [call_id]
                CSeq: \(cseq) ACK
                Max-Forwards: 70
                \(h.length): 0


                """
            return "  <send>\n    <![CDATA[\n\(text)]]>\n  </send>\n"
        }
        func expect200(_ pattern: String? = nil, count: Int = 1) -> String {
            guard let pattern else { return "  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"200\"/>\n" }
            return """
                  <recv response="100" optional="true"/>
                  <recv response="200">
                    <action>
                      <ereg regexp="\(pattern)" search_in="msg" check_it="true" assign_to="1"/>
                    </action>
                  </recv>

                """
        }
        let sdp = { (direction: String, version: Int) in
            """
            v=0
            o=SRC 1 \(version) IN IP4 [media_ip]
            s=-
            c=IN IP4 [media_ip]
            t=0 0
            m=audio [media_port] RTP/AVP 0 101
            a=rtpmap:0 PCMU/8000
            a=rtpmap:101 telephone-event/8000
            a=fmtp:101 0-16
            a=label:1
            a=\(direction)
            m=audio [media_port+2] RTP/AVP 0 101
            a=rtpmap:0 PCMU/8000
            a=rtpmap:101 telephone-event/8000
            a=fmtp:101 0-16
            a=label:2
            a=\(direction)

            """
        }
        let metadata = flavour == .acmeDraft ? Self.acmeMetadata : Self.rfcMetadata
        func offer(_ direction: String, _ version: Int) -> (type: String, body: String) {
            switch flavour {
            case .noMetadata: return ("application/sdp", sdp(direction, version))
            case .broadWorks:
                return ("multipart/mixed;boundary=\"bw-boundary\"",
                        "--bw-boundary\nContent-Type: application/rs-metadata+xml\nContent-Disposition: recording-session\n\n\(metadata)\n--bw-boundary\nContent-Type: application/sdp\n\n\(sdp(direction, version))\n--bw-boundary--\n")
            case .rfc7866, .acmeDraft:
                return ("multipart/mixed;boundary=xyzzy",
                        "--xyzzy\nContent-Type: application/sdp\n\n\(sdp(direction, version))\n--xyzzy\nContent-Type: application/rs-metadata+xml\nContent-Disposition: recording-session\n\n\(metadata)\n--xyzzy--\n")
            }
        }
        var xml = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"siprec-\(flavour.rawValue)\">\n"
        let first = offer("sendonly", 1)
        xml += request("INVITE", 1, inDialog: false, type: first.type, body: first.body)
        xml += expect200("Contact:.*\\+sip\\.srs|m:.*\\+sip\\.srs")
        xml += ack(1)
        func play(_ pcap: String?) -> String {
            guard let pcap else { return "" }
            return "  <nop>\n    <action>\n      <exec play_pcap_audio=\"\(pcap)\"/>\n    </action>\n  </nop>\n"
        }
        xml += play(media)
        xml += "  <pause milliseconds=\"\(holdMs)\"/>\n"
        let pause = offer("inactive", 2)
        xml += request("INVITE", 2, type: pause.type, body: pause.body) + expect200("a=inactive") + ack(2)
        xml += play(pausedMedia)
        xml += "  <pause milliseconds=\"\(pausedMs)\"/>\n"
        let resume = offer("sendonly", 3)
        xml += request("INVITE", 3, type: resume.type, body: resume.body) + expect200("a=recvonly") + ack(3)
        if flavour != .noMetadata {
            xml += request("UPDATE", 4, type: "application/rs-metadata+xml", body: metadata) + expect200()
        }
        xml += "  <pause milliseconds=\"300\"/>\n"
        xml += request("BYE", 5) + expect200()
        // sipp refuses a variable assigned but never read: the regexp checks only assign to mark a match.
        xml += "  <Reference variables=\"1\"/>\n</scenario>\n"
        return xml
    }

    /// OPTIONS, as an SBC's recorder health check sends it.
    static let options = """
        <?xml version="1.0" encoding="ISO-8859-1" ?>
        <scenario name="options">
          <send retrans="500">
            <![CDATA[
        OPTIONS sip:[service]@[remote_ip]:[remote_port] SIP/2.0
        Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
        From: <sip:sbc@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
        To: <sip:[service]@[remote_ip]:[remote_port]>
        Call-ID: [call_id]
        CSeq: 1 OPTIONS
        Max-Forwards: 70
        Content-Length: 0

        ]]>
          </send>
          <recv response="200">
            <action>
              <ereg regexp="Allow:.*INVITE" search_in="msg" check_it="true" assign_to="1"/>
            </action>
          </recv>
          <Reference variables="1"/>
        </scenario>

        """

    static let rfcMetadata = """
        <?xml version="1.0" encoding="UTF-8"?>
        <recording xmlns="urn:ietf:params:xml:ns:recording:1">
          <datamode>complete</datamode>
          <session session_id="s1"><sipSessionID>abc</sipSessionID></session>
          <participant participant_id="p1"><nameID aor="sip:+31201234567@carrier.test"/></participant>
          <participant participant_id="p2"><nameID aor="sip:bot@acme.test"/></participant>
          <stream stream_id="st1" session_id="s1"><label>1</label></stream>
          <stream stream_id="st2" session_id="s1"><label>2</label></stream>
          <participantstreamassoc participant_id="p1"><send>st1</send><recv>st2</recv></participantstreamassoc>
          <participantstreamassoc participant_id="p2"><send>st2</send><recv>st1</recv></participantstreamassoc>
        </recording>
        """

    static let acmeMetadata = """
        <?xml version="1.0" encoding="UTF-8"?>
        <recording xmlns="urn:ietf:params:xml:ns:recording" xmlns:apkt="http:/acmepacket.com/siprec/extensiondata">
          <datamode>complete</datamode>
          <session id="s1"><start-time>2026-12-06T04:00:00</start-time></session>
          <participant id="p1" session="s1"><nameID aor="sip:+31201234567@carrier.test"><name>Caller</name></nameID>
            <send>st1</send><recv>st2</recv></participant>
          <participant id="p2" session="s1"><nameID aor="sip:bot@acme.test"/><send>st2</send><recv>st1</recv></participant>
          <stream id="st1" session="s1"><label>1</label></stream>
          <stream id="st2" session="s1"><label>2</label></stream>
          <apkt:ucid>00FA080018803B69810C63</apkt:ucid>
        </recording>
        """
}
