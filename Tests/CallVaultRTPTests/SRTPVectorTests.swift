import CallVaultCrypto
import Testing

@testable import CallVaultRTP

/// RFC 3711 Appendix B known answers.
@Suite struct SRTPVectorTests {
    /// B.2: the AES-CM keystream for a session key and an IV offset, blocks 0–2 and FEFF–FF01.
    @Test func aesCounterModeKeystream() {
        let key = hex("2B7E151628AED2A6ABF7158809CF4F3C")
        let iv = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000")
        var stream = [UInt8](repeating: 0, count: 16 * 0xFF02)
        key.withUnsafeBytes { key in
            let cipher = AESCounterMode(key: key)
            iv.withUnsafeBytes { iv in stream.withUnsafeMutableBytes { cipher.apply(iv: iv, to: $0) } }
        }
        func block(_ n: Int) -> [UInt8] { Array(stream[(16 * n)..<(16 * n + 16)]) }
        #expect(block(0) == hex("E03EAD0935C95E80E166B16DD92B4EB4"))
        #expect(block(1) == hex("D23513162B02D0F72A43A2FE4A5F97AB"))
        #expect(block(2) == hex("41E95B3BB0A2E8DD477901E4FCA894C0"))
        #expect(block(0xFEFF) == hex("EC8CDF7398607CB0F2D21675EA9EA1E4"))
        #expect(block(0xFF00) == hex("362B7C3C6773516318A077D7FC5073AE"))
        #expect(block(0xFF01) == hex("6A2CC3787889374FBEB4C81B17BA6C44"))
    }

    /// B.3: session keys derived from a master key and salt (packet index 0, KDR 0).
    @Test func keyDerivation() {
        let keys = SRTPSessionKeys(
            masterKey: hex("E1F97A0D3E018BE0D64FA32C06DE4139"), masterSalt: hex("0EC675AD498AFEEBB6960B3AABE6"),
            rtcp: false)
        #expect(keys.encryptionKey == hex("C61E7A93744F39EE10734AFE3FF7A087"))
        #expect(keys.salt == hex("30CBBC08863D8C85D49DB34A9AE1"))
        #expect(Array(keys.authenticationKey.prefix(16)) == hex("CEBE321F6FF7716B6FD4AB49AF256A15"))
        #expect(keys.authenticationKey.count == 20)
    }
}
