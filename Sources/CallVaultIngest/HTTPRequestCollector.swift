package import NIOHTTP1

/// Gathers one HTTP/1 request's head and body, the body up to a limit (past it the body is dropped and
/// the request marked too large, for a 413): what the control API's and the console's handlers share.
///
/// A head whose `Content-Length` is already over the limit is returned at once, marked too large, and
/// the rest of that request ignored: the client gets its 413 before it uploads a body nobody will read
/// (the handlers close the connection after a 413).
package struct HTTPRequestCollector {
    /// A whole request: its head, its body, and whether the body went past the limit (then empty or partial).
    package struct Request {
        package let head: HTTPRequestHead
        package let body: [UInt8]
        package let tooLarge: Bool
    }

    private let limit: Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    /// The rest of a request already answered (its head announced too large a body).
    private var discarding = false

    package init(limit: Int) { self.limit = limit }

    /// Takes one part of a request; returns the request at its end (nil before, and for an end without head).
    package mutating func collect(_ part: HTTPServerRequestPart) -> Request? {
        switch part {
        case .head(let head):
            body.removeAll(keepingCapacity: true)
            if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length > limit {
                self.head = nil
                discarding = true
                return Request(head: head, body: [], tooLarge: true)
            }
            self.head = head
            tooLarge = false
            discarding = false
        case .body where discarding:
            return nil
        case .body(var chunk):
            if body.count + chunk.readableBytes > limit {
                tooLarge = true
            } else {
                body += chunk.readBytes(length: chunk.readableBytes) ?? []
            }
        case .end:
            discarding = false
            guard let head else { return nil }
            self.head = nil
            return Request(head: head, body: body, tooLarge: tooLarge)
        }
        return nil
    }
}
