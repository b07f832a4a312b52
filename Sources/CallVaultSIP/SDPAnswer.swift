/// The SDP a recording server answers an offer with (RFC 3264; RFC 7866 §8.1.1): one `m=` line per
/// offered line in the same order, each either accepted on a local port (`recvonly`, or `inactive`
/// when the SRC paused it, the offered payload types CallVault decodes, the label echoed, the SRTP key
/// CallVault chose) or refused with port 0. A plain `application/sdp` body, never multipart.
public struct SDPAnswer: Sendable, Equatable {
    /// How CallVault answers one offered `m=` line.
    public struct Stream: Sendable, Equatable {
        /// The local RTP port; 0 refuses the stream.
        public var port: Int
        /// The accepted payload types with their codecs, in the offer's order.
        public var codecs: [SDPRTPMap]
        /// `a=fmtp` lines to echo for accepted payload types (telephone-event's `0-16`, opus parameters).
        public var fmtp: [Int: String]
        /// The `a=crypto` value CallVault answers an SRTP stream with (its own key, the offer's tag and suite).
        public var crypto: String?

        public init(port: Int, codecs: [SDPRTPMap], fmtp: [Int: String] = [:], crypto: String? = nil) {
            self.port = port
            self.codecs = codecs
            self.fmtp = fmtp
            self.crypto = crypto
        }

        public static let refused = Stream(port: 0, codecs: [])
    }

    /// The answer's direction for an offered one: CallVault only receives.
    public static func direction(answering offered: SDPDirection) -> SDPDirection {
        switch offered {
        case .sendonly, .sendrecv: .recvonly
        case .recvonly, .inactive: .inactive
        }
    }

    /// The SDP text, CRLF-terminated lines. `address` is where CallVault receives media; `sessionID`
    /// and `version` are the `o=` line's (the version goes up by one with each new answer in a dialog).
    public static func render(
        offer: SDPSession, streams: [Stream], address: String, sessionID: UInt64, version: UInt64
    ) -> [UInt8] {
        let family = address.contains(":") ? "IP6" : "IP4"
        var lines = [
            "v=0",
            "o=CallVault \(sessionID) \(version) IN \(family) \(address)",
            "s=CallVault recording",
            "c=IN \(family) \(address)",
            "t=0 0",
        ]
        for (index, media) in offer.media.enumerated() {
            let stream = index < streams.count ? streams[index] : .refused
            guard stream.port != 0, !stream.codecs.isEmpty else {
                // A refused stream keeps the offer's profile and one of its formats (RFC 3264 §6).
                lines.append("m=\(media.kind) 0 \(media.proto) \(media.formats.first ?? "0")")
                if let label = media.label { lines.append("a=label:\(label)") }
                continue
            }
            lines.append("m=\(media.kind) \(stream.port) \(media.proto) " + stream.codecs.map { "\($0.payloadType)" }.joined(separator: " "))
            for codec in stream.codecs {
                lines.append("a=rtpmap:\(codec.payloadType) \(codec.encoding)/\(codec.clockRate)" + (codec.channels.map { "/\($0)" } ?? ""))
                if let fmtp = stream.fmtp[codec.payloadType] { lines.append("a=fmtp:\(codec.payloadType) \(fmtp)") }
            }
            if let label = media.label { lines.append("a=label:\(label)") }
            if let crypto = stream.crypto { lines.append("a=crypto:\(crypto)") }
            if media.rtcpMux { lines.append("a=rtcp-mux") }
            lines.append("a=\(direction(answering: offer.direction(ofMedia: index)).rawValue)")
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }
}

extension SDPMedia {
    /// The payload types offered, each with its codec: from `a=rtpmap`, or for the static types
    /// (RFC 3551) without one, from the static table. Types neither names are left out.
    public var offeredCodecs: [SDPRTPMap] {
        payloadTypes.compactMap { pt in
            if let map = rtpmaps.first(where: { $0.payloadType == pt }) { return map }
            return switch pt {
            case 0: SDPRTPMap(payloadType: 0, encoding: "PCMU", clockRate: 8000, channels: nil)
            case 8: SDPRTPMap(payloadType: 8, encoding: "PCMA", clockRate: 8000, channels: nil)
            case 9: SDPRTPMap(payloadType: 9, encoding: "G722", clockRate: 8000, channels: nil)
            case 13: SDPRTPMap(payloadType: 13, encoding: "CN", clockRate: 8000, channels: nil)
            default: nil
            }
        }
    }
}
