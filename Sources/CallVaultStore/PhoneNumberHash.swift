/// Keyed hashes of phone numbers: the only form in which the catalog indexes a caller.
///
/// HMAC-SHA-256 under a per-tenant key, so the hash finds a caller's calls for a data-subject
/// request, differs between tenants (no cross-tenant linking), and cannot be reversed by hashing
/// every possible number without the key.
enum PhoneNumberHash {
    /// Reduces a number to `+` and digits, so `+49 30 1234-567` and `+49301234567` hash alike.
    static func normalize(_ number: String) throws(CatalogError) -> String {
        var result = ""
        for character in number {
            if character.isASCII, character.isNumber {
                result.append(character)
            } else if character == "+", result.isEmpty {
                result.append(character)
            } else if !" -.()/".contains(character) {
                throw CatalogError(
                    .invalidArgument,
                    "a phone number may hold only digits, spaces, '-', '.', '(', ')' and a leading '+'"
                )
            }
        }
        guard result.contains(where: \.isNumber) else {
            throw CatalogError(.invalidArgument, "a phone number must contain digits")
        }
        return result
    }

    /// The keyed hash of `number` under a tenant's 32-byte phone-hash key.
    static func hash(_ number: String, key: [UInt8]) throws(CatalogError) -> [UInt8] {
        try CatalogHash.hmacSHA256(key: key, data: Array(normalize(number).utf8))
    }
}
