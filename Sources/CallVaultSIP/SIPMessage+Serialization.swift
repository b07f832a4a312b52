extension SIPMessage {
    /// The message as bytes for the wire: start line, headers in order (any Content-Length replaced by
    /// the body's real length, so a response can never lie about its body), a blank line, the body.
    public func serialized() -> [UInt8] {
        var text: String
        switch startLine {
        case .request(let method, let uri): text = "\(method) \(uri) SIP/2.0\r\n"
        case .response(let code, let reason): text = "SIP/2.0 \(code) \(reason)\r\n"
        }
        for field in headers.fields where field.key != "content-length" {
            text += "\(field.name): \(field.value)\r\n"
        }
        text += "Content-Length: \(body.count)\r\n\r\n"
        var bytes = Array(text.utf8)
        bytes.append(contentsOf: body)
        return bytes
    }
}

extension SIPHeaders {
    /// Removes every field named `name` (compact forms count), keeping the others' order.
    public mutating func remove(_ name: String) {
        let key = (name.count == 1 ? (Self.compactForms[name.lowercased()] ?? name) : name).lowercased()
        removeFields { $0.key == key }
    }

    /// Replaces every `name` field with one holding `value`.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        append(name: name, value: value)
    }
}
