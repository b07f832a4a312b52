package import NIOHTTP1

/// Gathers one HTTP/1 request's head and body, the body up to a limit (past it the body is dropped and
/// the request marked too large, for a 413): what the control API's and the console's handlers share.
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

    package init(limit: Int) { self.limit = limit }

    /// Takes one part of a request; returns the request at its end (nil before, and for an end without head).
    package mutating func collect(_ part: HTTPServerRequestPart) -> Request? {
        switch part {
        case .head(let head):
            self.head = head
            body.removeAll(keepingCapacity: true)
            tooLarge = false
        case .body(var chunk):
            if body.count + chunk.readableBytes > limit {
                tooLarge = true
            } else {
                body += chunk.readBytes(length: chunk.readableBytes) ?? []
            }
        case .end:
            guard let head else { return nil }
            self.head = nil
            return Request(head: head, body: body, tooLarge: tooLarge)
        }
        return nil
    }
}
