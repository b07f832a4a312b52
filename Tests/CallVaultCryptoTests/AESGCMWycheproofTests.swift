import Foundation
import Testing
@testable import CallVaultCrypto

private struct AEADFile: Decodable {
    struct Group: Decodable {
        let keySize: Int
        let ivSize: Int
        let tagSize: Int
        let tests: [Vector]
    }
    struct Vector: Decodable {
        let tcId: Int
        let key, iv, aad, msg, ct, tag, result: String
        let flags: [String]
    }
    let numberOfTests: Int
    let testGroups: [Group]
}

/// Every Wycheproof AES-GCM vector with a 256-bit key, 96-bit IV and 128-bit tag, through `AESGCM`.
@Suite struct AESGCMWycheproofTests {
    @Test(.enabled(if: TestVectors.available, TestVectors.absentMessage))
    func everyVectorWithOurParameters() throws {
        let file = try TestVectors.load(AEADFile.self, "aes_gcm_test.json")
        let vectors = file.testGroups
            .filter { $0.keySize == 256 && $0.ivSize == 96 && $0.tagSize == 128 }
            .flatMap(\.tests)
        // The file has 66 such vectors (39 valid, 27 invalid); a smaller count means we read it wrong.
        #expect(vectors.count >= 60)
        var valid = 0, invalid = 0
        for v in vectors {
            let key = try SecretKey(copying: try hex(v.key))
            let gcm = try AESGCM(key: key)
            let iv = try hex(v.iv), aad = try hex(v.aad), msg = try hex(v.msg)
            let ct = try hex(v.ct), tag = try hex(v.tag)
            if v.result == "valid" {
                valid += 1
                var buffer = msg
                var computedTag = [UInt8](repeating: 0, count: 16)
                try buffer.withUnsafeMutableBytes { b in
                    try computedTag.withUnsafeMutableBytes { t in
                        try iv.withUnsafeBytes { n in
                            try aad.withUnsafeBytes { a in try gcm.seal(inPlace: b, nonce: n, aad: a, tag: t) }
                        }
                    }
                }
                #expect(buffer == ct, "tcId \(v.tcId): ciphertext")
                #expect(computedTag == tag, "tcId \(v.tcId): tag")
                #expect(try open(gcm, ct, iv, aad, tag) == msg, "tcId \(v.tcId): open")
            } else {
                invalid += 1
                #expect(throws: CryptoError.self, "tcId \(v.tcId) \(v.flags) must not open") {
                    _ = try open(gcm, ct, iv, aad, tag)
                }
            }
        }
        #expect(valid > 0 && invalid > 0)
    }

    private func open(_ gcm: AESGCM, _ ct: [UInt8], _ iv: [UInt8], _ aad: [UInt8], _ tag: [UInt8]) throws -> [UInt8] {
        var buffer = ct
        do {
            try buffer.withUnsafeMutableBytes { b in
                try tag.withUnsafeBytes { t in
                    try iv.withUnsafeBytes { n in
                        try aad.withUnsafeBytes { a in try gcm.open(inPlace: b, nonce: n, aad: a, tag: t) }
                    }
                }
            }
        } catch let error as CryptoError {
            #expect(error.code == .authenticationFailed)
            #expect(buffer.allSatisfy { $0 == 0 }, "failed open must zero the buffer")
            throw error
        }
        return buffer
    }
}
