/// What a redacted span held, without its value: the manifest and the placeholder are built from it.
public enum RedactionEntityKind: String, Sendable, Hashable, Codable, CaseIterable {
    case cardNumber, securityCode, expiryDate
    case iban, accountNumber
    case phoneNumber, email
    case nationalID, dateOfBirth
    /// Whatever the caller said inside a window the bot declared sensitive (not found by the detector).
    case sensitiveWindow

    /// The tenant category that switches this kind on.
    public var category: RedactionCategory {
        switch self {
        case .cardNumber, .securityCode, .expiryDate, .sensitiveWindow: .payment
        case .iban, .accountNumber: .bank
        case .phoneNumber, .email: .contact
        case .nationalID, .dateOfBirth: .ids
        }
    }

    /// The text that stands in the transcript where the words were.
    public var placeholder: String {
        switch self {
        case .cardNumber: "[CARD]"
        case .securityCode: "[CVV]"
        case .expiryDate: "[EXPIRY]"
        case .iban: "[IBAN]"
        case .accountNumber: "[ACCOUNT]"
        case .phoneNumber: "[PHONE]"
        case .email: "[EMAIL]"
        case .nationalID: "[ID]"
        case .dateOfBirth: "[DOB]"
        case .sensitiveWindow: "[REDACTED]"
        }
    }
}
