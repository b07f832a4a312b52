/// A password stored as scrypt's output, self-describing so that its cost can be raised later:
/// `scrypt$N$r$p$SALT_HEX$HASH_HEX`. The password itself is never stored or logged.
public struct PasswordHash: Sendable, Equatable, CustomStringConvertible {
    public let parameters: Scrypt.Parameters
    public let salt: [UInt8]
    public let hash: [UInt8]

    /// Hashes `password` under a fresh 16-byte random salt.
    public init(hashing password: String, parameters: Scrypt.Parameters = .interactive) throws(CryptoError) {
        let salt = try SecureRandom.bytes(16)
        self.parameters = parameters
        self.salt = salt
        hash = try Scrypt.derive(password: Array(password.utf8), salt: salt, parameters: parameters)
    }

    /// Parses the stored form; nil if it is not one this build wrote.
    public init?(encoded: String) {
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0] == "scrypt", let n = UInt64(fields[1]), let r = UInt64(fields[2]),
            let p = UInt64(fields[3]), let salt = Hex.decode(String(fields[4])), let hash = Hex.decode(String(fields[5])),
            salt.count >= 16, hash.count >= 16
        else { return nil }
        let parameters = Scrypt.Parameters(n: n, r: r, p: p)
        guard parameters.isAcceptable else { return nil }
        self.parameters = parameters
        self.salt = salt
        self.hash = hash
    }

    /// The stored form.
    public var encoded: String {
        "scrypt$\(parameters.n)$\(parameters.r)$\(parameters.p)$\(Hex.encode(salt))$\(Hex.encode(hash))"
    }

    /// Never the hash itself, so that printing a value cannot leak it.
    public var description: String { "scrypt(N=\(parameters.n), r=\(parameters.r), p=\(parameters.p))" }

    /// Whether `password` is the one hashed; compared in constant time. False on any KDF failure.
    public func verify(_ password: String) -> Bool {
        guard let derived = try? Scrypt.derive(
            password: Array(password.utf8), salt: salt, parameters: parameters, outputByteCount: hash.count)
        else { return false }
        return ConstantTime.equals(derived, hash)
    }
}
