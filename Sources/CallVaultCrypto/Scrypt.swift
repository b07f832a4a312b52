import CLibCrypto

/// scrypt (RFC 7914), the memory-hard password KDF, through OpenSSL's `EVP_PBE_scrypt`.
///
/// Operator passwords are hashed with it so that a stolen catalog costs an attacker memory as well
/// as time per guess (a GPU farm cannot share the 32 MiB each guess needs).
public enum Scrypt {
    /// Cost parameters: `n` (CPU/memory cost, a power of two), `r` (block size), `p` (parallelism).
    public struct Parameters: Sendable, Equatable {
        public var n: UInt64
        public var r: UInt64
        public var p: UInt64

        public init(n: UInt64, r: UInt64, p: UInt64) {
            self.n = n
            self.r = r
            self.p = p
        }

        /// N = 2^15, r = 8, p = 1: 32 MiB and about 0.1 s per hash on one core (OWASP's minimum is 2^17
        /// with r = 8 only for p = 1 on servers with the memory; 2^15 keeps logins quick on 2 cores).
        public static let interactive = Parameters(n: 1 << 15, r: 8, p: 1)

        /// The memory one hash takes (128 · N · r · p bytes).
        public var memoryBytes: UInt64 { 128 * n * r * p }

        /// True for parameters this build accepts: N a power of two in 2^10...2^20, r 1...32, p 1...16.
        public var isAcceptable: Bool {
            n >= 1 << 10 && n <= 1 << 20 && n & (n - 1) == 0 && (1...32).contains(r) && (1...16).contains(p)
        }
    }

    /// Derives `outputByteCount` bytes from `password` and `salt`.
    public static func derive(
        password: [UInt8], salt: [UInt8], parameters: Parameters, outputByteCount: Int = 32
    ) throws(CryptoError) -> [UInt8] {
        guard parameters.isAcceptable else {
            throw CryptoError(
                .invalidOutputLength, "scrypt parameters N=\(parameters.n) r=\(parameters.r) p=\(parameters.p) are out of range")
        }
        guard (16...64).contains(outputByteCount) else {
            throw CryptoError(.invalidOutputLength, "scrypt output must be 16...64 bytes, not \(outputByteCount)")
        }
        guard password.count <= 4096, salt.count <= 1024 else {
            throw CryptoError(.inputTooLarge, "scrypt takes passwords up to 4096 bytes and salts up to 1024")
        }
        var output = [UInt8](repeating: 0, count: outputByteCount)
        // maxmem must cover 128·N·r·p plus OpenSSL's own working space; twice the need is ample.
        let maximumMemory = parameters.memoryBytes * 2
        let ok = password.withUnsafeBufferPointer { pass in
            salt.withUnsafeBufferPointer { salt in
                output.withUnsafeMutableBufferPointer { out in
                    pass.withMemoryRebound(to: CChar.self) { pass in
                        EVP_PBE_scrypt(
                            pass.baseAddress, pass.count, salt.baseAddress, salt.count, parameters.n, parameters.r,
                            parameters.p, maximumMemory, out.baseAddress, out.count)
                    }
                }
            }
        }
        guard ok == 1 else { throw OpenSSLError.error("EVP_PBE_scrypt") }
        return output
    }
}
