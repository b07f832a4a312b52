import CallVaultSIP
import FuzzSupport

// Fuzzes the SIP and SIPREC parsing layer (CallVaultSIP): framing, headers, multipart, SDP, the
// bounded XML reader, recording metadata and the track mapping.
//
// Input: byte 0 picks what the rest is (low two bits): 0 a UDP datagram, taken through
// SIPMessage.parse(datagram:), SIPRECOffer.parse and TrackMapping under each customer rule;
// 1 a TCP stream, byte 1 the read size (0: one read), framed by SIPFramer once in one read and once
// cut into reads — both must give the same messages and both fail or neither; 2 an SDP body;
// 3 recording metadata XML (then also split as multipart with boundary "b"). Checked beyond "no
// crash": the limits hold (m= lines, body size), and the mapping has one track per audio m= line,
// never a caller or bot without a participant when metadata decided.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzSIP(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#if !CALLVAULT_FUZZ
    @main
    enum Standalone {
        static func main() {
            FuzzSupport.main(fuzzSIP)
        }
    }
#endif

let limits = SIPLimits.default
let rules: [CustomerRule] = [.firstStream, .notTenantAddress(["acme.example"]), .participantAddress("sip:c@h")]

func fuzzSIP(_ input: UnsafeRawBufferPointer) {
    guard let mode = input.first else { return }
    let rest = Array(input.dropFirst())
    switch mode & 3 {
    case 0: datagram(rest)
    case 1: stream(rest)
    case 2:
        if let sdp = try? SDPSession.parse(rest, limits: limits) {
            check(sdp)
            for rule in rules { check(TrackMapping.map(sdp: sdp, metadata: nil, rule: rule), sdp) }
        }
    default:
        if let metadata = try? RecordingMetadata.parse(rest, limits: limits) { mapWithFixedSDP(metadata) }
        if let body = try? MultipartBody.parse(rest, boundary: "b", limits: limits) {
            guard body.parts.count <= limits.maxBodyParts else { FuzzSupport.fail("\(body.parts.count) parts") }
        }
    }
}

func datagram(_ bytes: [UInt8]) {
    guard let message = (try? SIPMessage.parse(datagram: bytes, limits: limits)) ?? nil else { return }
    guard message.body.count <= bytes.count, bytes.count <= limits.maxMessageBytes else {
        FuzzSupport.fail("body of \(message.body.count) from \(bytes.count) bytes")
    }
    _ = try? message.vias()
    _ = try? message.cseq()
    _ = try? message.contacts()
    _ = SIPRECDetection.detect(message)
    guard let offer = try? SIPRECOffer.parse(message, limits: limits) else { return }
    if let sdp = offer.sdp {
        check(sdp)
        for rule in rules { check(TrackMapping.map(sdp: sdp, metadata: offer.metadata, rule: rule), sdp) }
    }
}

func stream(_ input: [UInt8]) {
    guard let size = input.first else { return }
    let bytes = Array(input.dropFirst())
    func run(_ readSize: Int) -> (messages: [SIPMessage], failed: Bool, buffered: Int) {
        var framer = SIPFramer(limits: limits)
        var messages: [SIPMessage] = []
        var i = 0
        repeat {
            let end = readSize == 0 ? bytes.count : min(bytes.count, i + readSize)
            framer.append(bytes[i..<end])
            i = end
            do {
                while let m = try framer.nextMessage() { messages.append(m) }
            } catch {
                return (messages, true, 0)
            }
        } while i < bytes.count
        return (messages, false, framer.bufferedBytes)
    }
    let whole = run(0)
    let cut = run(Int(size))
    guard whole.messages == cut.messages, whole.failed == cut.failed, whole.buffered == cut.buffered else {
        FuzzSupport.fail(
            "one read: \(whole.messages.count) messages, failed \(whole.failed); reads of \(size): \(cut.messages.count), failed \(cut.failed)"
        )
    }
}

func check(_ sdp: SDPSession) {
    guard sdp.media.count <= limits.maxMediaLines else { FuzzSupport.fail("\(sdp.media.count) m= lines") }
    for media in sdp.media {
        guard (0...65535).contains(media.port), media.rtpmaps.allSatisfy({ (0...127).contains($0.payloadType) }) else {
            FuzzSupport.fail("port or payload type out of range")
        }
    }
}

func check(_ mapping: TrackMapping, _ sdp: SDPSession) {
    let audio = sdp.media.indices.filter { sdp.media[$0].kind == "audio" }
    guard mapping.tracks.map(\.mediaIndex) == audio else { FuzzSupport.fail("tracks do not follow the audio m= lines") }
    if mapping.basis == .metadata {
        for track in mapping.tracks where track.role != .unknown && track.participantID == nil {
            FuzzSupport.fail("a \(track.role) track without a participant")
        }
    }
}

/// A two-stream SDP labelled 1 and 2, so fuzzed metadata reaches the mapping.
let fixedSDP: SDPSession? = try? SDPSession.parse(
    Array("v=0\r\nm=audio 1000 RTP/AVP 0\r\na=label:1\r\nm=audio 1002 RTP/AVP 0\r\na=label:2\r\n".utf8)
)

func mapWithFixedSDP(_ metadata: RecordingMetadata) {
    guard let sdp = fixedSDP else { FuzzSupport.fail("the fixed SDP does not parse") }
    for rule in rules { check(TrackMapping.map(sdp: sdp, metadata: metadata, rule: rule), sdp) }
}
