/// Bounds on what the parsers accept, so a hostile peer costs a bounded amount of memory and time.
/// The defaults are far above what any SBC sends (a SIPREC INVITE is a few KiB) and far below what
/// would hurt.
public struct SIPLimits: Sendable, Equatable {
    /// The whole message, start line to the end of the body.
    public var maxMessageBytes: Int
    /// Header fields per message (after unfolding) or per body part.
    public var maxHeaders: Int
    /// One line of the start line, the headers or the SDP.
    public var maxLineBytes: Int
    /// Parts in a multipart body.
    public var maxBodyParts: Int
    /// `m=` lines in one SDP (a SIPREC offer has one per recorded stream).
    public var maxMediaLines: Int
    /// Lines in one SDP.
    public var maxSDPLines: Int
    /// The metadata XML document.
    public var maxXMLBytes: Int
    /// Element nesting in the metadata XML.
    public var maxXMLDepth: Int
    /// Elements plus attributes in the metadata XML.
    public var maxXMLNodes: Int

    public init(
        maxMessageBytes: Int = 65_536,
        maxHeaders: Int = 128,
        maxLineBytes: Int = 8_192,
        maxBodyParts: Int = 8,
        maxMediaLines: Int = 64,
        maxSDPLines: Int = 2_048,
        maxXMLBytes: Int = 65_536,
        maxXMLDepth: Int = 24,
        maxXMLNodes: Int = 4_096
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.maxHeaders = maxHeaders
        self.maxLineBytes = maxLineBytes
        self.maxBodyParts = maxBodyParts
        self.maxMediaLines = maxMediaLines
        self.maxSDPLines = maxSDPLines
        self.maxXMLBytes = maxXMLBytes
        self.maxXMLDepth = maxXMLDepth
        self.maxXMLNodes = maxXMLNodes
    }

    public static let `default` = SIPLimits()
}
