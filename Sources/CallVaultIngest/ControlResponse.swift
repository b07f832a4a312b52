import Foundation

/// The control API's answer: a status and a JSON (or Prometheus text) body.
public struct ControlResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String = "application/json", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// A JSON object body.
    static func json(_ status: Int, _ object: [String: any Sendable]) -> ControlResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return ControlResponse(status: status, body: Array(data) + [0x0A])
    }

    /// `{"error": message}`: what was wrong, naming the field or id (never a token or a number).
    static func error(_ status: Int, _ message: String) -> ControlResponse {
        json(status, ["error": message])
    }
}
