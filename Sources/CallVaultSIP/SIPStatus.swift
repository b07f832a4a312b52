/// The reason phrases CallVault sends with each status code it uses (RFC 3261 §21 and later RFCs).
public enum SIPStatus {
    public static func reason(_ code: Int) -> String {
        switch code {
        case 100: "Trying"
        case 180: "Ringing"
        case 200: "OK"
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 415: "Unsupported Media Type"
        case 420: "Bad Extension"
        case 422: "Session Interval Too Small"
        case 481: "Call/Transaction Does Not Exist"
        case 483: "Too Many Hops"
        case 487: "Request Terminated"
        case 488: "Not Acceptable Here"
        case 491: "Request Pending"
        case 500: "Server Internal Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 513: "Message Too Large"
        default: code < 300 ? "OK" : "Error"
        }
    }
}
