import CallVaultCrypto
import CallVaultModel
import Foundation

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

    /// What a call row keeps of its caller's number: its keyed hash and its sealed copy (nil, nil without
    /// a number). A number without the tenant's caller keys is refused: it is never stored in the clear.
    static func callerColumns(_ number: String?, keys: CallerKeys?, tenantID: String, callID: String)
        throws(CatalogError) -> (hash: Data?, encrypted: Data?)
    {
        guard let number else { return (nil, nil) }
        guard let keys else {
            throw CatalogError(
                .invalidArgument,
                "a caller's number is kept only as a keyed hash and an encrypted copy: pass the tenant's caller keys")
        }
        return (
            Data(try hash(number, key: keys.hashKey)),
            Data(try encrypt(number, key: keys.encryptionKey, tenantID: tenantID, callID: callID))
        )
    }

    /// The keyed hash of `number` under a tenant's phone-hash key (from ``KeyStore/callerKeys(tenantID:)``).
    static func hash(_ number: String, key: SecretKey) throws(CatalogError) -> [UInt8] {
        Digest.hmacSHA256(key: key, data: Array(try normalize(number).utf8))
    }

    /// The number (normalized) sealed under the tenant's caller encryption key, bound to its call:
    /// nonce (12) ‖ ciphertext ‖ tag (16).
    static func encrypt(_ number: String, key: SecretKey, tenantID: String, callID: String) throws(CatalogError) -> [UInt8] {
        let plain = Array(try normalize(number).utf8)
        let aad = Array("callvault caller v1|\(tenantID)|\(callID)".utf8)
        do { return try SealedText.seal(plain, key: key, aad: aad) } catch {
            throw CatalogError(.cryptoFailure, "cannot encrypt the caller's number: \(error.message)")
        }
    }
}
