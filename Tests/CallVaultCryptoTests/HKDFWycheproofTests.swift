import Foundation
import Testing
@testable import CallVaultCrypto

private struct HKDFFile: Decodable {
    struct Group: Decodable { let tests: [Vector] }
    struct Vector: Decodable {
        let tcId: Int
        let ikm, salt, info, okm, result: String
        let size: Int
        let flags: [String]
    }
    let testGroups: [Group]
}

/// Wycheproof HKDF-SHA-256 vectors through `HKDF.sha256Bytes` and `HKDF.sha256`.
@Suite struct HKDFWycheproofTests {
    @Test(.enabled(if: TestVectors.available, TestVectors.absentMessage))
    func everyVector() throws {
        let file = try TestVectors.load(HKDFFile.self, "hkdf_sha256_test.json")
        let vectors = file.testGroups.flatMap(\.tests)
        #expect(vectors.count >= 80)
        var valid = 0, invalid = 0
        for v in vectors {
            let ikm = try SecretKey(copying: try hex(v.ikm))
            let salt = try hex(v.salt), info = try hex(v.info)
            if v.result == "valid" {
                valid += 1
                let okm = try HKDF.sha256Bytes(key: ikm, salt: salt, info: info, outputByteCount: v.size)
                #expect(okm == (try hex(v.okm)), "tcId \(v.tcId)")
                // The key-returning form must derive the very same bytes.
                let derived = try HKDF.sha256(key: ikm, salt: salt, info: info, outputByteCount: v.size)
                #expect(derived.count == v.size)
                #expect(derived.withUnsafeBytes { Array($0) } == okm, "tcId \(v.tcId) (SecretKey output)")
            } else {
                invalid += 1
                #expect(throws: CryptoError.self, "tcId \(v.tcId) \(v.flags) must throw") {
                    _ = try HKDF.sha256Bytes(key: ikm, salt: salt, info: info, outputByteCount: v.size)
                }
                #expect(throws: CryptoError.self, "tcId \(v.tcId) \(v.flags) must throw") {
                    _ = try HKDF.sha256(key: ikm, salt: salt, info: info, outputByteCount: v.size)
                }
            }
        }
        #expect(valid > 0 && invalid > 0)
    }

    @Test func outOfRangeOutputLengthsAreTypedErrors() throws {
        let key = try SecretKey()
        for size in [0, -1, HKDF.maximumOutputByteCount + 1] {
            do {
                _ = try HKDF.sha256Bytes(key: key, salt: [], info: [], outputByteCount: size)
                Issue.record("output size \(size) was accepted")
            } catch {
                #expect(error.code == .invalidOutputLength)
            }
        }
        #expect(try HKDF.sha256Bytes(key: key, salt: [], info: [], outputByteCount: HKDF.maximumOutputByteCount).count
            == 8160)
    }

    @Test func differentInfoGivesIndependentKeys() throws {
        let key = try SecretKey()
        let a = try HKDF.sha256Bytes(key: key, salt: [1, 2, 3], info: Array("a".utf8), outputByteCount: 32)
        let b = try HKDF.sha256Bytes(key: key, salt: [1, 2, 3], info: Array("b".utf8), outputByteCount: 32)
        let c = try HKDF.sha256Bytes(key: key, salt: [1, 2, 4], info: Array("a".utf8), outputByteCount: 32)
        #expect(a != b && a != c && b != c)
    }
}
