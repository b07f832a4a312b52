/// How a tenant's calls may be recorded: the legal basis the tenant's privacy policy relies on.
///
/// The raw values are the CLI spellings (`--consent opt-in|opt-out|not-required`) and the catalog's.
public enum ConsentMode: String, Sendable, Codable, CaseIterable {
    /// Nothing is recorded before the caller consents (the default, and the GDPR-safe choice).
    case optIn = "opt-in"
    /// Recording starts after the disclosure was played and stops on objection.
    case optOut = "opt-out"
    /// Everything is recorded: for tenants with another legal basis.
    case notRequired = "not-required"
}
