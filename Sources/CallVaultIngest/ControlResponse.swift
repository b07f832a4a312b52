import Foundation

/// The control API's answer: a status, a JSON, problem+json or Prometheus text body, and the few headers
/// a status calls for (`Retry-After` on 429, `WWW-Authenticate` on 401, `Allow` on 405).
public struct ControlResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// Headers besides `content-type` and `content-length`, in order.
    public var headers: [HTTPField]

    /// One response header.
    public struct HTTPField: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(status: Int, contentType: String = "application/json", body: [UInt8], headers: [HTTPField] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    /// The value of a header, if the response has it (names compared case-insensitively).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// A JSON object body.
    static func json(_ status: Int, _ object: [String: any Sendable]) -> ControlResponse {
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return ControlResponse(status: status, body: Array(data) + [0x0A])
    }

    /// An error as RFC 9457 problem details (`application/problem+json`): `type` `about:blank`, `title`
    /// the status's reason phrase, `status`, and `detail` saying what was wrong, naming the field or id
    /// (never a token, a phone number, transcript text or key material).
    static func error(_ status: Int, _ detail: String, headers: [HTTPField] = []) -> ControlResponse {
        let object: [String: any Sendable] = [
            "type": "about:blank", "title": Self.reasonPhrase(status), "status": status, "detail": detail,
        ]
        var response = json(status, object)
        response.contentType = Self.problemContentType
        response.headers = headers
        return response
    }

    /// The media type of an error body (RFC 9457).
    public static let problemContentType = "application/problem+json"

    /// The reason phrase of each status the control API answers with (RFC 9110, RFC 6585).
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Error"
        }
    }
}
