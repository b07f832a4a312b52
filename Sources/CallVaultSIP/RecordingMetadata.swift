/// The recording metadata of a SIPREC session (RFC 7865), reduced to what maps streams to speakers:
/// participants with their AORs and the streams each sends, and streams with their SDP labels.
///
/// Accepts what SRCs send besides the RFC: the draft namespace without `:1` (Oracle/Acme, Avaya),
/// `urn:ietf:params:xml:ns:siprec` (BroadWorks), any prefix on the root (`tns:`, `apkt:`), `id=`
/// attributes in place of `participant_id=`/`stream_id=`, the label as an attribute or a `<label>`
/// element, and `send`/`recv` either in `participantstreamassoc` or nested in `participant`.
/// Elements it does not know (`callData`, `apkt:ucid`, extension data) are ignored.
public struct RecordingMetadata: Sendable, Equatable {
    /// Which namespace the root element was in.
    public enum Dialect: Sendable, Equatable {
        /// `urn:ietf:params:xml:ns:recording:1`.
        case rfc7865
        /// `urn:ietf:params:xml:ns:recording` (the pre-RFC drafts).
        case draft
        /// `urn:ietf:params:xml:ns:siprec`.
        case siprecNamespace
        /// No namespace, or another one: read the same way.
        case other(String?)
    }

    public struct Participant: Sendable, Equatable {
        public var id: String
        /// Each `nameID aor=` (and a draft `<aor>` element), as written.
        public var aors: [String] = []
        /// Display names from `<nameID><name>`.
        public var names: [String] = []
        /// Stream ids this participant sends (its voice) and receives.
        public var sends: [String] = []
        public var receives: [String] = []
    }

    public struct Stream: Sendable, Equatable {
        public var id: String
        /// The `a=label` of the m= line carrying this stream.
        public var label: String?
        public var sessionID: String?
    }

    public var dialect: Dialect
    public var sessionIDs: [String] = []
    public var participants: [Participant] = []
    public var streams: [Stream] = []

    public static func parse(_ bytes: [UInt8], limits: SIPLimits = .default) throws(SIPParseError) -> RecordingMetadata
    {
        let root = try BoundedXMLReader.parse(bytes, limits: limits)
        guard root.localName.lowercased() == "recording" else { throw .notRecordingMetadata }
        let dialect: Dialect =
            switch root.namespace {
            case "urn:ietf:params:xml:ns:recording:1": .rfc7865
            case "urn:ietf:params:xml:ns:recording": .draft
            case "urn:ietf:params:xml:ns:siprec": .siprecNamespace
            default: .other(root.namespace)
            }
        var metadata = RecordingMetadata(dialect: dialect)
        metadata.collect(root)
        return metadata
    }

    /// The id attribute in either spelling (`participant_id` or the draft's `id`).
    private static func id(_ element: MetadataXMLElement, _ specific: String) -> String? {
        (element.attribute(specific) ?? element.attribute("id")).map { String(SIPSyntax.trim(Substring($0))) }
    }

    private static func texts(_ element: MetadataXMLElement, _ name: String) -> [String] {
        element.children(named: name).map(\.trimmedText).filter { !$0.isEmpty }
    }

    /// Walks the tree; participant, stream and association elements are read whole and not descended
    /// into (a draft association names its participant with a `<participant>` child).
    private mutating func collect(_ element: MetadataXMLElement) {
        for child in element.children {
            switch child.localName.lowercased() {
            case "session":
                if let id = Self.id(child, "session_id") { sessionIDs.append(id) }
                collect(child)
            case "participant":
                let id = Self.id(child, "participant_id") ?? ""
                var aors: [String] = []
                var names: [String] = []
                for nameID in child.children(named: "nameID") {
                    if let aor = nameID.attribute("aor") { aors.append(aor) }
                    names += Self.texts(nameID, "name")
                }
                aors += Self.texts(child, "aor")
                if let aor = child.attribute("aor") { aors.append(aor) }
                merge(
                    Participant(
                        id: id,
                        aors: aors,
                        names: names,
                        sends: Self.texts(child, "send"),
                        receives: Self.texts(child, "recv")
                    )
                )
            case "stream":
                let label = child.attribute("label") ?? Self.texts(child, "label").first
                streams.append(
                    Stream(
                        id: Self.id(child, "stream_id") ?? "",
                        label: label.map { String(SIPSyntax.trim(Substring($0))) },
                        sessionID: child.attribute("session_id") ?? child.attribute("session")
                    )
                )
            case "participantstreamassoc":
                let id =
                    child.attribute("participant_id") ?? child.attribute("participant")
                    ?? Self.texts(child, "participant").first ?? ""
                merge(
                    Participant(
                        id: String(SIPSyntax.trim(Substring(id))),
                        sends: Self.texts(child, "send"),
                        receives: Self.texts(child, "recv")
                    )
                )
            default:
                collect(child)
            }
        }
    }

    /// Adds a participant, or folds what it says into the one with the same id (a participant and
    /// its association arrive as two elements).
    private mutating func merge(_ participant: Participant) {
        guard !participant.id.isEmpty, let index = participants.firstIndex(where: { $0.id == participant.id }) else {
            participants.append(participant)
            return
        }
        participants[index].aors += participant.aors.filter { !participants[index].aors.contains($0) }
        participants[index].names += participant.names.filter { !participants[index].names.contains($0) }
        participants[index].sends += participant.sends.filter { !participants[index].sends.contains($0) }
        participants[index].receives += participant.receives.filter { !participants[index].receives.contains($0) }
    }
}
