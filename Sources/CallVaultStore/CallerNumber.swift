public import CallVaultModel

/// The rule a caller's number must follow to be stored (digits, spaces, `-`, `.`, `(`, `)`, `/` and a
/// leading `+`; at least one digit), for callers that check a number before they reach the catalog.
public enum CallerNumber {
    /// Throws `invalidArgument`, naming the rule and never the number, when `number` breaks it.
    public static func check(_ number: String) throws(CatalogError) {
        _ = try PhoneNumberHash.normalize(number)
    }
}
