/// The keys one `.cvr` part derives from its recording's data key and its own salt.
///
/// Three HKDF calls (≈ 90 allocations) once per file; nothing here runs per segment.
struct SealedFileKeys {
    static let fileKeyInfo = Array("callvault cvr v1 file key".utf8)
    static let commitmentInfo = Array("callvault cvr v1 key commitment".utf8)
    static let headerMACInfo = Array("callvault cvr v1 header mac".utf8)

    let fileKey: SecretKey
    let commitment: [UInt8]
    let headerMACKey: SecretKey

    init(dataKey: SecretKey, salt: [UInt8], path: String?) throws(SealedFileError) {
        guard dataKey.count == 32 else {
            throw SealedFileError(.cryptoFailed, "a data key must be 32 bytes, not \(dataKey.count)", path: path)
        }
        do throws(CryptoError) {
            fileKey = try HKDF.sha256(key: dataKey, salt: salt, info: Self.fileKeyInfo, outputByteCount: 32)
            commitment = try HKDF.sha256Bytes(key: dataKey, salt: salt, info: Self.commitmentInfo, outputByteCount: 32)
            headerMACKey = try HKDF.sha256(key: dataKey, salt: salt, info: Self.headerMACInfo, outputByteCount: 32)
        } catch {
            throw SealedFileError(.cryptoFailed, "deriving the file keys failed: \(error.message)", path: path)
        }
    }

    func headerMAC(for header: SealedFileHeader) -> [UInt8] {
        Digest.hmacSHA256(key: headerMACKey, data: header.encodedWithoutMAC())
    }
}
