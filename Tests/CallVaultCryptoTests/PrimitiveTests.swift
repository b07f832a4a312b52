import Testing
@testable import CallVaultCrypto

/// SecretKey, SecureRandom, Digest, Hex, ConstantTime and AESGCM beyond the vectors.
@Suite struct PrimitiveTests {
    @Test func secretKeyDescriptionHidesBytes() throws {
        let key = try SecretKey(copying: [UInt8](repeating: 0xAB, count: 32))
        #expect(key.description == "SecretKey(32 bytes)")
        #expect("\(key)" == "SecretKey(32 bytes)")
        #expect(String(reflecting: key) == "SecretKey(32 bytes)")
        #expect(!key.description.lowercased().contains("ab"))
    }

    @Test func secretKeyLengthsAreChecked() throws {
        for bad in [0, -1, SecretKey.maximumByteCount + 1] {
            do {
                _ = try SecretKey(randomByteCount: bad)
                Issue.record("a \(bad)-byte key was created")
            } catch {
                #expect(error.code == .invalidKeyLength)
            }
        }
        #expect(try SecretKey(randomByteCount: 16).count == 16)
        #expect(try SecretKey().count == 32)
    }

    @Test func secretKeyCopiesAndRandomKeysDiffer() throws {
        let bytes: [UInt8] = Array(0..<32)
        let key = try bytes.withUnsafeBytes { try SecretKey(copying: $0) }
        #expect(key.withUnsafeBytes { Array($0) } == bytes)
        let a = try SecretKey(), b = try SecretKey()
        #expect(a.withUnsafeBytes { Array($0) } != b.withUnsafeBytes { Array($0) })
        // Page-aligned storage, as mlock/madvise need.
        #expect(Int(bitPattern: key.storage) % 4096 == 0)
    }

    @Test func secureRandomFillsAndDiffers() throws {
        let a = try SecureRandom.bytes(64), b = try SecureRandom.bytes(64)
        #expect(a.count == 64 && a != b && a != [UInt8](repeating: 0, count: 64))
        #expect(try SecureRandom.bytes(0).isEmpty)
    }

    @Test func sha256KnownAnswers() {
        // FIPS 180-2 examples.
        #expect(Digest.sha256Hex("abc".utf8) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Hex.encode(Digest.sha256([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha256(Array("abc".utf8)) == Digest.sha256("abc".utf8))
    }

    @Test func hmacSHA256KnownAnswer() throws {
        // RFC 4231 test case 2.
        let key = try SecretKey(copying: Array("Jefe".utf8))
        let mac = Digest.hmacSHA256(key: key, data: Array("what do ya want for nothing?".utf8))
        #expect(Hex.encode(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func hexRoundTripAndRejects() {
        #expect(Hex.decode("00ff10Ab") == [0, 255, 16, 171])
        #expect(Hex.encode([0, 255, 16, 171]) == "00ff10ab")
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }

    @Test func constantTimeEquals() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(ConstantTime.equals([], []))
    }

    @Test func aesGCMRejectsBadLengths() throws {
        do {
            _ = try AESGCM(key: try SecretKey(randomByteCount: 16))
            Issue.record("a 16-byte key was accepted")
        } catch { #expect(error.code == .invalidKeyLength) }
        let gcm = try AESGCM(key: try SecretKey())
        var data: [UInt8] = [1, 2, 3]
        var tag = [UInt8](repeating: 0, count: 16)
        var shortTag = [UInt8](repeating: 0, count: 12)
        let nonce8 = [UInt8](repeating: 0, count: 8), nonce12 = [UInt8](repeating: 0, count: 12)
        try data.withUnsafeMutableBytes { d in
            try tag.withUnsafeMutableBytes { t in
                try shortTag.withUnsafeMutableBytes { st in
                    try nonce8.withUnsafeBytes { n8 in
                        try nonce12.withUnsafeBytes { n12 in
                            do {
                                try gcm.seal(inPlace: d, nonce: n8, aad: .init(start: nil, count: 0), tag: t)
                                Issue.record("an 8-byte nonce was accepted")
                            } catch let error as CryptoError { #expect(error.code == .invalidNonceLength) }
                            do {
                                try gcm.seal(inPlace: d, nonce: n12, aad: .init(start: nil, count: 0), tag: st)
                                Issue.record("a 12-byte tag was accepted")
                            } catch let error as CryptoError { #expect(error.code == .invalidTagLength) }
                        }
                    }
                }
            }
        }
        #expect(data == [1, 2, 3], "a rejected call must not touch the data")
    }

    /// One context alternates seal and open, and rekey switches keys without a new context.
    @Test func contextIsReusableAcrossOperationsAndKeys() throws {
        let k1 = try SecretKey(), k2 = try SecretKey()
        let gcm = try AESGCM(key: k1)
        let other = try AESGCM(key: k2)
        let nonce = try SecureRandom.bytes(12), aad: [UInt8] = [9, 9]
        func seal(_ g: AESGCM, _ m: [UInt8]) throws -> ([UInt8], [UInt8]) {
            var b = m, t = [UInt8](repeating: 0, count: 16)
            try b.withUnsafeMutableBytes { b in try t.withUnsafeMutableBytes { t in
                try nonce.withUnsafeBytes { n in try aad.withUnsafeBytes { a in try g.seal(inPlace: b, nonce: n, aad: a, tag: t) } }
            } }
            return (b, t)
        }
        func open(_ g: AESGCM, _ c: [UInt8], _ t: [UInt8]) throws -> [UInt8] {
            var b = c
            try b.withUnsafeMutableBytes { b in try t.withUnsafeBytes { t in
                try nonce.withUnsafeBytes { n in try aad.withUnsafeBytes { a in try g.open(inPlace: b, nonce: n, aad: a, tag: t) } }
            } }
            return b
        }
        for round in 0..<5 {
            let message = try SecureRandom.bytes(100 + round)
            let (c, t) = try seal(gcm, message)
            #expect(try open(gcm, c, t) == message)
            #expect(throws: CryptoError.self) { _ = try open(other, c, t) }
        }
        gcm.rekey(k2)
        let (c, t) = try seal(gcm, [1, 2, 3])
        #expect(try open(other, c, t) == [1, 2, 3])
        // Empty message: the tag alone authenticates the associated data.
        let (ce, te) = try seal(gcm, [])
        #expect(ce.isEmpty)
        #expect(try open(other, [], te) == [])
    }
}
