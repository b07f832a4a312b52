/// What a recorder needs from an INVITE, re-INVITE or UPDATE: whether it is SIPREC, its SDP and its
/// recording metadata, taken from a `multipart/mixed` body in whatever order the parts come (or from
/// a plain `application/sdp` body, as Cisco NBR and plain SIP calls send). Other parts (Cisco's
/// `application/gtd`) are skipped.
public struct SIPRECOffer: Sendable, Equatable {
    public var detection: SIPRECDetection
    /// Nil for an offerless INVITE or a metadata-only UPDATE.
    public var sdp: SDPSession?
    public var metadata: RecordingMetadata?
    /// Content types of the parts that were neither SDP nor metadata, for the log.
    public var ignoredParts: [String] = []

    public static func parse(_ message: SIPMessage, limits: SIPLimits = .default) throws(SIPParseError) -> SIPRECOffer {
        guard !message.body.isEmpty else {
            return SIPRECOffer(detection: SIPRECDetection.detect(message), sdp: nil, metadata: nil)
        }
        let type = try message.contentType() ?? SIPMediaType(type: "application", subtype: "sdp", parameters: [])
        switch type.essence {
        case "application/sdp":
            return SIPRECOffer(
                detection: SIPRECDetection.detect(message),
                sdp: try SDPSession.parse(message.body, limits: limits),
                metadata: nil
            )
        case "application/rs-metadata+xml":
            return SIPRECOffer(
                detection: SIPRECDetection(reasons: SIPRECDetection.detect(message).reasons + [.metadataPart]),
                sdp: nil,
                metadata: try RecordingMetadata.parse(message.body, limits: limits)
            )
        default:
            guard type.type == "multipart" else { throw .unsupportedContentType(type.essence) }
            let body = try MultipartBody.parse(message.body, contentType: type, limits: limits)
            var offer = SIPRECOffer(detection: SIPRECDetection.detect(message, parts: body))
            for part in body.parts {
                switch part.contentType?.essence {
                case "application/sdp" where offer.sdp == nil:
                    offer.sdp = try SDPSession.parse(part.body, limits: limits)
                case "application/rs-metadata+xml" where offer.metadata == nil:
                    offer.metadata = try RecordingMetadata.parse(part.body, limits: limits)
                default: offer.ignoredParts.append(part.contentType?.essence ?? "(none)")
                }
            }
            return offer
        }
    }
}
