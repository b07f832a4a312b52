/// Whether an INVITE is a SIPREC recording session, decided leniently (RFC 7866 says `Require:
/// siprec` and `+sip.src`, but BroadWorks sends no Require, AudioCodes writes `;src`, and some SRCs
/// send only the metadata part). Each reason found is listed, for the log.
public struct SIPRECDetection: Sendable, Equatable {
    public enum Reason: Sendable, Equatable {
        case requireSiprec
        case supportedSiprec
        case contactSrc
        case metadataPart
    }

    public var reasons: [Reason]

    public var isSIPREC: Bool { !reasons.isEmpty }
    /// Whether the SRC asked for siprec in Require, so the answer echoes it.
    public var required: Bool { reasons.contains(.requireSiprec) }

    /// Looks at Require, Supported, Contact and (when given) the body's parts. Headers that do not
    /// parse count as absent: detection never refuses a message.
    public static func detect(_ message: SIPMessage, parts: MultipartBody? = nil) -> SIPRECDetection {
        var reasons: [Reason] = []
        if message.headers.hasOptionTag("siprec", in: "Require") { reasons.append(.requireSiprec) }
        if message.headers.hasOptionTag("siprec", in: "Supported") { reasons.append(.supportedSiprec) }
        if let contacts = try? message.contacts(),
            contacts.contains(where: {
                $0.parameters.parameter("+sip.src") != nil || $0.parameters.parameter("src") != nil
            })
        {
            reasons.append(.contactSrc)
        }
        if let parts, parts.parts.contains(where: { $0.contentType?.essence == "application/rs-metadata+xml" }) {
            reasons.append(.metadataPart)
        }
        return SIPRECDetection(reasons: reasons)
    }
}
