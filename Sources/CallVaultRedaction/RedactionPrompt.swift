/// A phrase that says what the next number is ("security code", "date of birth", "order number").
/// Prompts decide what a short number is; long card-length runs need none.
public enum RedactionPrompt: String, Sendable, Hashable, CaseIterable {
    case card, securityCode, expiry, account, phone, nationalID, dateOfBirth
    /// A number that is not personal data (order, invoice, postcode, house number, amount): it
    /// cancels the context rules for the run after it, never the card-length rule.
    case harmless
}
