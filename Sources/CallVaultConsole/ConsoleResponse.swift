/// One HTTP response of the console. The server adds the security headers every response carries
/// (``ConsoleSecurityHeaders``); a response adds its own (cookies, `Location`, ranges).
public struct ConsoleResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// A body streamed from a file instead of `body` (``ConsoleFileBody``); nil for an in-memory body.
    public var file: ConsoleFileBody?
    /// A body sent as it is produced instead of `body` (audio, ``ConsoleBodyStream``); nil for the others.
    public var stream: ConsoleBodyStream?

    public init(status: Int, contentType: String, body: [UInt8], headers: [(name: String, value: String)] = []) {
        self.status = status
        self.body = body
        self.headers = [("content-type", contentType)] + headers
    }

    /// A response whose body is sent from `file`, a chunk at a time.
    public init(status: Int, contentType: String, file: ConsoleFileBody, headers: [(name: String, value: String)] = []) {
        self.init(status: status, contentType: contentType, body: [], headers: headers)
        self.file = file
    }

    /// A response whose body is `stream` (its length is sent as `Content-Length`).
    public init(status: Int, contentType: String, stream: ConsoleBodyStream, headers: [(name: String, value: String)] = []) {
        self.init(status: status, contentType: contentType, body: [], headers: headers)
        self.stream = stream
    }

    /// The body's length, whichever kind it is: what `Content-Length` says.
    public var contentLength: Int { file?.count ?? stream?.length ?? body.count }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    static func html(_ status: Int, _ page: String) -> ConsoleResponse {
        ConsoleResponse(status: status, contentType: "text/html; charset=utf-8", body: Array(page.utf8))
    }

    /// 303 See Other: after a POST, the browser GETs `location` (so a reload does not post again).
    static func redirect(_ location: String) -> ConsoleResponse {
        ConsoleResponse(status: 303, contentType: "text/plain; charset=utf-8", body: [], headers: [("location", location)])
    }

    /// A plain page saying what went wrong, in the console's layout when there is an operator.
    static func problem(_ status: Int, _ title: String, _ message: String, session: ConsoleSession? = nil) -> ConsoleResponse {
        html(status, ConsoleLayout.page(title: title, session: session, body: "<h1>\(HTML.escape(title))</h1><p>\(HTML.escape(message))</p>"))
    }

    static func notFound(session: ConsoleSession?) -> ConsoleResponse {
        problem(404, "Not found", "There is nothing here, or you may not see it.", session: session)
    }

    mutating func add(header name: String, _ value: String) { headers.append((name, value)) }
}
