public import CallVaultAudio
public import CallVaultModel

/// What a tenant's consent rules say, as the gate needs them (from the tenant's ``TenantPolicy``).
public struct ConsentPolicy: Sendable, Equatable {
    public var mode: ConsentMode
    /// Consent counts only after the `disclosure` event (the bot said it is an AI and records).
    public var requireDisclosure: Bool
    /// The key a caller presses to consent, if any.
    public var consentDigit: DTMFDigit?
    /// The key a caller presses to object (deny before consent, revoke after), if any.
    public var optOutDigit: DTMFDigit?

    public init(
        mode: ConsentMode = .optIn, requireDisclosure: Bool = false, consentDigit: DTMFDigit? = nil,
        optOutDigit: DTMFDigit? = nil
    ) {
        self.mode = mode
        self.requireDisclosure = requireDisclosure
        self.consentDigit = consentDigit
        self.optOutDigit = optOutDigit
    }

    public init(_ tenant: TenantPolicy) {
        self.init(
            mode: tenant.consentMode, requireDisclosure: tenant.requireDisclosure,
            consentDigit: tenant.consentDigit.flatMap(DTMFDigit.init(rawValue:)),
            optOutDigit: tenant.optOutDigit.flatMap(DTMFDigit.init(rawValue:)))
    }
}
