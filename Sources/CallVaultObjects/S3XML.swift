/// The little XML that S3's answers need: the text of named elements, and escaping for the one body we
/// send (CompleteMultipartUpload).
///
/// S3's answers are flat records (`<Contents><Key>…</Key><Size>…</Size></Contents>`), never mixed
/// content, and a name never nests inside itself, so finding `<Name>…</Name>` pairs is enough; no DTD,
/// no CDATA, no external entities are read (so none can be abused).
enum S3XML {
    /// The inner text of each `<name …>…</name>` in `xml`, in order (`<name/>` gives an empty text).
    static func elements(_ name: String, in xml: Substring) -> [Substring] {
        var found: [Substring] = []
        var rest = xml[...]
        let open = "<" + name
        let close = "</" + name + ">"
        while let start = rest.range(of: open) {
            let after = rest[start.upperBound...]
            guard let next = after.first else { break }
            guard next == ">" || next == " " || next == "/" || next == "\n" || next == "\t" || next == "\r",
                let tagEnd = after.firstIndex(of: ">")
            else {
                rest = after
                continue
            }
            if after[..<tagEnd].hasSuffix("/") {
                found.append(after[tagEnd..<tagEnd])
                rest = after[after.index(after: tagEnd)...]
                continue
            }
            let contentStart = after.index(after: tagEnd)
            guard let end = after[contentStart...].range(of: close) else { break }
            found.append(after[contentStart..<end.lowerBound])
            rest = after[end.upperBound...]
        }
        return found
    }

    /// The decoded text of the first `<name>` in `xml`, or nil.
    static func value(_ name: String, in xml: Substring) -> String? {
        elements(name, in: xml).first.map { unescape($0) }
    }

    /// `&amp; &lt; &gt; &quot; &apos; &#N; &#xN;` decoded; an unknown entity is left as it is.
    static func unescape(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";"), rest.distance(from: amp, to: semicolon) <= 10 else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            let entity = rest[rest.index(after: amp)..<semicolon]
            var replacement: String?
            switch entity {
            case "amp": replacement = "&"
            case "lt": replacement = "<"
            case "gt": replacement = ">"
            case "quot": replacement = "\""
            case "apos": replacement = "'"
            default:
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    replacement = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
                } else if entity.hasPrefix("#") {
                    replacement = UInt32(entity.dropFirst(1)).flatMap(Unicode.Scalar.init).map { String($0) }
                }
            }
            if let replacement {
                out += replacement
                rest = rest[rest.index(after: semicolon)...]
            } else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
            }
        }
        return out + rest
    }

    /// `text` safe inside an element.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}
