import CallVaultCrypto

/// The session keys of one direction, derived from the master key (RFC 3711 §4.3) with key
/// derivation rate 0: derived once, at set-up.
struct SRTPSessionKeys {
    /// RFC 3711 §4.3.2 labels.
    enum Label: UInt8 {
        case rtpEncryption = 0, rtpAuthentication = 1, rtpSalt = 2
        case rtcpEncryption = 3, rtcpAuthentication = 4, rtcpSalt = 5
    }

    var encryptionKey: [UInt8]
    var authenticationKey: [UInt8]
    var salt: [UInt8]

    /// Derives the SRTP (`rtcp == false`) or SRTCP keys.
    init(masterKey: [UInt8], masterSalt: [UInt8], rtcp: Bool) {
        encryptionKey = Self.derive(rtcp ? .rtcpEncryption : .rtpEncryption, count: 16, masterKey, masterSalt)
        authenticationKey = Self.derive(rtcp ? .rtcpAuthentication : .rtpAuthentication, count: 20, masterKey, masterSalt)
        salt = Self.derive(rtcp ? .rtcpSalt : .rtpSalt, count: 14, masterKey, masterSalt)
    }

    /// `count` bytes of the AES-CM keystream under the master key, starting at
    /// IV = (master_salt XOR (label || r)) · 2^16, with r = index DIV KDR = 0 (KDR 0).
    /// The label lands in byte 7 of the 14-byte salt: `label || r` is 56 bits, right-aligned.
    static func derive(_ label: Label, count: Int, _ masterKey: [UInt8], _ masterSalt: [UInt8]) -> [UInt8] {
        var iv = [UInt8](repeating: 0, count: 16)
        for i in 0..<14 { iv[i] = masterSalt[i] }
        iv[7] ^= label.rawValue
        var out = [UInt8](repeating: 0, count: count)
        masterKey.withUnsafeBytes { key in
            let cipher = AESCounterMode(key: key)
            iv.withUnsafeBytes { iv in out.withUnsafeMutableBytes { cipher.apply(iv: iv, to: $0) } }
        }
        return out
    }
}
