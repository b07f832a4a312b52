public import CallVaultModel

/// A signed-in operator's session as a page sees it: who, and the token its forms must echo.
public struct ConsoleSession: Sendable {
    /// The operator, read from the catalog on this request (a removed operator has no session).
    public let account: OperatorAccount
    /// The CSRF token every POST form of this session carries in its `csrf` field.
    public let csrfToken: String
    /// The key of the session in ``ConsoleSessions`` (the hash of the cookie's token).
    let key: String
}
