public import CallVaultModel

/// Which operators must have a TOTP second factor to use the console (`serve --console-require-totp`).
/// One without it is refused at sign-in, told how to get one, and a session it already has ends at its
/// next request.
public enum ConsoleTOTPRequirement: String, Sendable, CaseIterable {
    /// The password alone is enough for an operator without TOTP (one with TOTP still needs its code).
    case none
    /// Global administrators and administrators of any tenant need TOTP.
    case admins
    /// Every operator needs TOTP.
    case all

    /// Whether `account` may use the console only with a second factor.
    public func applies(to account: OperatorAccount) -> Bool {
        switch self {
        case .none: false
        case .admins: account.globalAdmin || account.roles.values.contains(.admin)
        case .all: true
        }
    }
}
