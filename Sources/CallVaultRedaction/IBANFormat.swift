/// IBAN lengths per country (ISO 13616 registry, SEPA countries and neighbours), so a spoken IBAN is
/// cut at its real end and digits said after it are classified on their own.
enum IBANFormat {
    static let lengths: [String: Int] = [
        "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
        "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GI": 23, "GL": 18, "GR": 27, "HR": 21, "HU": 28,
        "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18,
        "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22,
    ]
    /// Fewer characters than this are not called an IBAN even after a bank prompt (a sort code, a
    /// postcode with letters).
    static let minimumSpoken = 12
    static let maximumLength = 34
}
