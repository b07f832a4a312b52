/// The groups a tenant switches redaction on for (`tenant set --redact pci,bank,contact,ids`).
///
/// `payment` is spelled `pci` in the tenant policy; `init(policyName:)` accepts both.
public enum RedactionCategory: String, Sendable, Hashable, Codable, CaseIterable {
    /// Card numbers, security codes, expiry dates: PCI DSS forbids keeping the security code at all.
    case payment
    /// IBANs and other account numbers.
    case bank
    /// Phone numbers and e-mail addresses.
    case contact
    /// National identity numbers and dates of birth.
    case ids

    /// The category for a name in a tenant policy (`pci`, `payment`, `bank`, `contact`, `ids`).
    public init?(policyName: String) {
        switch policyName.lowercased() {
        case "pci", "payment": self = .payment
        case "bank": self = .bank
        case "contact": self = .contact
        case "ids", "id": self = .ids
        default: return nil
        }
    }
}
