/// Session timers (RFC 4028): how long a dialog lives without a refresh (a re-INVITE or UPDATE), so a
/// recorder whose SRC vanished without a BYE ends the recording instead of waiting for media forever.
public struct SIPSessionTimer: Sendable, Equatable {
    /// The smallest interval CallVault accepts (RFC 4028's floor; shorter gets 422 with `Min-SE`).
    public static let minimumSeconds = 90
    /// The interval CallVault asks for when the SRC supports timers but names none.
    public static let defaultSeconds = 1800

    public var seconds: Int
    /// `uac` (the SRC refreshes) or `uas` (CallVault would have to).
    public var refresher: String?

    /// The `Session-Expires` of a request: nil when absent; refused when not a number.
    public static func parse(_ message: SIPMessage) throws(SIPParseError) -> SIPSessionTimer? {
        guard let value = message.headers.first("Session-Expires") else { return nil }
        let pieces = try SIPSyntax.split(Substring(value), at: ";")
        guard let first = pieces.first, first.count <= 9, first.allSatisfy(\.isASCIIDigit), let seconds = Int(first) else {
            throw .malformedSessionExpires
        }
        let refresher = try SIPSyntax.parameters(pieces.dropFirst()).parameter("refresher")?.value?.lowercased()
        return SIPSessionTimer(seconds: seconds, refresher: refresher)
    }

    /// The request's `Min-SE`, when given.
    public static func minimum(_ message: SIPMessage) throws(SIPParseError) -> Int? {
        guard let value = message.headers.first("Min-SE") else { return nil }
        let first = try SIPSyntax.split(Substring(value), at: ";").first ?? ""
        guard first.count <= 9, !first.isEmpty, first.allSatisfy(\.isASCIIDigit), let seconds = Int(first) else {
            throw .malformedSessionExpires
        }
        return seconds
    }

    /// How a UAS answers a dialog-creating or refreshing request (RFC 4028 §9): the timer to put in the
    /// 2xx (the SRC refreshes: `refresher=uac`), or nil when the SRC neither asks for nor supports timers.
    public static func answer(_ request: SIPMessage) throws(SIPParseError) -> SIPSessionTimer? {
        let supported = request.headers.hasOptionTag("timer", in: "Supported") || request.headers.hasOptionTag("timer", in: "Require")
        if let asked = try parse(request) {
            return SIPSessionTimer(seconds: asked.seconds, refresher: supported ? "uac" : (asked.refresher ?? "uac"))
        }
        return supported ? SIPSessionTimer(seconds: defaultSeconds, refresher: "uac") : nil
    }

    /// `N;refresher=uac`, the header value.
    public var headerValue: String { "\(seconds)" + (refresher.map { ";refresher=\($0)" } ?? "") }
}
