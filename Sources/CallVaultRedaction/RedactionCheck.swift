/// What a check digit said about a span. A label for the manifest and for measurement only: no
/// detection is gated on it, because one mis-heard digit breaks a checksum and would leak the
/// whole number (the failure of pipelines that gate on Luhn).
public enum RedactionCheck: String, Sendable, Hashable, Codable {
    /// The scheme's check passed (Luhn, IBAN mod-97, BSN 11-proof, Steuer-ID MOD 11,10).
    case valid
    /// The scheme has a check and it failed (a mis-heard or misread digit, or not that scheme).
    case invalid
    /// The kind has no check digit (e-mail, phone, date, security code).
    case none
}
