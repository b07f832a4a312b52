import Foundation

/// One HTTP request to the console, as the pages see it: method, path, query and form fields, the
/// cookies, and the client's address (for login throttling).
public struct ConsoleRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var clientAddress: String

    public init(
        method: String, target: String, headers: [(name: String, value: String)], body: [UInt8] = [],
        clientAddress: String = "?"
    ) {
        self.method = method
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts.first ?? "/")
        query = parts.count > 1 ? FormEncoding.decode(String(parts[1])) : [:]
        self.headers = headers
        self.body = body
        self.clientAddress = clientAddress
    }

    /// The first header of this name (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The request's cookies by name (the first of a repeated name wins).
    public var cookies: [String: String] {
        var cookies: [String: String] = [:]
        for header in headers where header.name.lowercased() == "cookie" {
            for pair in header.value.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let name = parts[0].trimmingCharacters(in: .whitespaces)
                if cookies[name] == nil { cookies[name] = parts[1].trimmingCharacters(in: .whitespaces) }
            }
        }
        return cookies
    }

    /// The fields of an `application/x-www-form-urlencoded` body (empty for any other type).
    public var form: [String: String] {
        guard header("content-type")?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else { return [:] }
        return FormEncoding.decode(String(decoding: body, as: UTF8.self))
    }

    /// The path's parts between slashes.
    var pathParts: [Substring] { path.split(separator: "/", omittingEmptySubsequences: true) }
}
