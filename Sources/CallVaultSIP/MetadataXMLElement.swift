/// An element read by ``BoundedXMLReader``: just what recording metadata needs (names with their
/// prefix and resolved namespace, attributes, child elements, direct text). Not called `XMLElement`,
/// which Foundation and FoundationXML already define.
public struct MetadataXMLElement: Sendable, Equatable {
    public struct Attribute: Sendable, Equatable {
        /// As written, with any prefix (`xmlns:tns`, `aor`).
        public var name: String
        public var value: String

        /// The name without its prefix.
        public var localName: String { name.split(separator: ":", maxSplits: 1).last.map(String.init) ?? name }
    }

    public var prefix: String?
    public var localName: String
    /// The namespace URI the prefix (or the default namespace) is bound to, nil when unbound.
    public var namespace: String?
    public var attributes: [Attribute] = []
    public var children: [MetadataXMLElement] = []
    /// Direct character data, entities decoded, concatenated.
    public var text: String = ""

    /// The value of the attribute whose local name is `name` (case-insensitive).
    public func attribute(_ name: String) -> String? {
        let name = name.lowercased()
        return attributes.first { $0.localName.lowercased() == name }?.value
    }

    /// Direct children whose local name is `name` (case-insensitive, prefixes ignored).
    public func children(named name: String) -> [MetadataXMLElement] {
        let name = name.lowercased()
        return children.filter { $0.localName.lowercased() == name }
    }

    /// The text with surrounding whitespace removed.
    public var trimmedText: String { String(SIPSyntax.trim(Substring(text))) }
}
