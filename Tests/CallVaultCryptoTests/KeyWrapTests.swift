import Testing
@testable import CallVaultCrypto

/// Key wrapping binds a key to its owner: it round-trips only under the same KEK and context.
@Suite struct KeyWrapTests {
    let context = KeyContext(tenantID: "tenant-a", keyID: "rec-1", purpose: "dek:voice")

    private func bytes(_ key: SecretKey) -> [UInt8] { key.withUnsafeBytes { Array($0) } }

    @Test func roundTrip() throws {
        let kek = try SecretKey(), key = try SecretKey()
        let wrapped = try KeyWrap.wrap(key, under: kek, context: context)
        #expect(wrapped.count == 1 + 12 + 32 + 16)
        #expect(wrapped[0] == KeyWrap.version)
        // The wrapped form must not contain the key in the clear.
        #expect(Array(wrapped[13..<45]) != bytes(key))
        let unwrapped = try KeyWrap.unwrap(wrapped, under: kek, context: context)
        #expect(bytes(unwrapped) == bytes(key))
        #expect(try bytes(KeyWrap.unwrap(wrapped, under: kek, context: context, expectedByteCount: 32)) == bytes(key))
    }

    @Test func twoWrapsOfOneKeyDiffer() throws {
        let kek = try SecretKey(), key = try SecretKey()
        let a = try KeyWrap.wrap(key, under: kek, context: context)
        let b = try KeyWrap.wrap(key, under: kek, context: context)
        #expect(a != b, "random nonces must make each wrap distinct")
    }

    @Test(arguments: [
        KeyContext(tenantID: "tenant-b", keyID: "rec-1", purpose: "dek:voice"),
        KeyContext(tenantID: "tenant-a", keyID: "rec-2", purpose: "dek:voice"),
        KeyContext(tenantID: "tenant-a", keyID: "rec-1", purpose: "dek:transcript"),
        // Same concatenated bytes, different split: the length prefixes must tell them apart.
        KeyContext(tenantID: "tenant-ar", keyID: "ec-1", purpose: "dek:voice"),
    ])
    func wrongContextFails(other: KeyContext) throws {
        let kek = try SecretKey(), key = try SecretKey()
        let wrapped = try KeyWrap.wrap(key, under: kek, context: context)
        do {
            _ = try KeyWrap.unwrap(wrapped, under: kek, context: other)
            Issue.record("unwrapped under \(other)")
        } catch {
            #expect(error.code == .unwrapFailed)
        }
    }

    @Test func wrongKEKFails() throws {
        let wrapped = try KeyWrap.wrap(try SecretKey(), under: try SecretKey(), context: context)
        do {
            _ = try KeyWrap.unwrap(wrapped, under: try SecretKey(), context: context)
            Issue.record("unwrapped under another KEK")
        } catch {
            #expect(error.code == .unwrapFailed)
        }
    }

    @Test func everyBitFlipFails() throws {
        let kek = try SecretKey()
        let wrapped = try KeyWrap.wrap(try SecretKey(), under: kek, context: context)
        for byte in 0..<wrapped.count {
            for bit in 0..<8 {
                var damaged = wrapped
                damaged[byte] ^= UInt8(1 << bit)
                do {
                    _ = try KeyWrap.unwrap(damaged, under: kek, context: context)
                    Issue.record("flip of bit \(bit) in byte \(byte) was accepted")
                } catch {
                    #expect(error.code == .unwrapFailed)
                }
            }
        }
    }

    @Test func truncatedOrWrongLengthFails() throws {
        let kek = try SecretKey()
        let wrapped = try KeyWrap.wrap(try SecretKey(), under: kek, context: context)
        for cut in [0, 1, 29, wrapped.count - 1] {
            #expect(throws: CryptoError.self) {
                _ = try KeyWrap.unwrap(Array(wrapped.prefix(cut)), under: kek, context: context)
            }
        }
        do {
            _ = try KeyWrap.unwrap(wrapped, under: kek, context: context, expectedByteCount: 16)
            Issue.record("a 32-byte key was accepted where 16 bytes were expected")
        } catch {
            #expect(error.code == .unwrapFailed)
        }
    }

    @Test func contextEncodingIsLengthPrefixed() {
        let a = KeyContext(tenantID: "ab", keyID: "c", purpose: "p").encoded
        let b = KeyContext(tenantID: "a", keyID: "bc", purpose: "p").encoded
        #expect(a != b)
        #expect(Array(a.suffix(16)) == [0, 0, 0, 2, 0x61, 0x62, 0, 0, 0, 1, 0x63, 0, 0, 0, 1, 0x70])
    }
}
