import CallVaultCrypto
import Foundation

@testable import CallVaultRTP

/// A test-only SRTP sender (RFC 3711 §3.1, §4.1.1), written from the RFC separately from
/// ``SRTPContext``'s receive path, to make packets for the tests that need no libsrtp.
struct SRTPTestSender {
    let keys: SRTPSessionKeys
    let tagLength: Int
    var mki: [UInt8] = []

    init(masterKey: [UInt8], masterSalt: [UInt8], suite: SRTPCryptoSuite, mki: [UInt8] = []) {
        keys = SRTPSessionKeys(masterKey: masterKey, masterSalt: masterSalt, rtcp: false)
        tagLength = suite.rtpTagLength
        self.mki = mki
    }

    /// SRTP of `rtp` (12-byte header, no CSRCs) with rollover counter `roc`.
    func protect(_ rtp: [UInt8], roc: UInt32) -> [UInt8] {
        let seq = UInt64(rtp[2]) << 8 | UInt64(rtp[3])
        let index = UInt64(roc) << 16 | seq
        var iv = keys.salt + [0, 0]
        for i in 0..<4 { iv[4 + i] ^= rtp[8 + i] }
        for i in 0..<6 { iv[8 + i] ^= UInt8(truncatingIfNeeded: index >> UInt64(40 - 8 * i)) }
        var packet = rtp
        var payload = Array(rtp[12...])
        keys.encryptionKey.withUnsafeBytes { key in
            let cipher = AESCounterMode(key: key)
            iv.withUnsafeBytes { iv in payload.withUnsafeMutableBytes { cipher.apply(iv: iv, to: $0) } }
        }
        packet.replaceSubrange(12..., with: payload)
        let rocBytes: [UInt8] = [UInt8(roc >> 24), UInt8((roc >> 16) & 0xFF), UInt8((roc >> 8) & 0xFF), UInt8(roc & 0xFF)]
        var tag = [UInt8](repeating: 0, count: 20)
        keys.authenticationKey.withUnsafeBytes { key in
            let mac = HMACSHA1(key: key)
            packet.withUnsafeBytes { message in
                rocBytes.withUnsafeBytes { suffix in tag.withUnsafeMutableBytes { mac.authenticate(message, suffix, into: $0) } }
            }
        }
        return packet + mki + tag.prefix(tagLength)
    }
}

/// Runs the SRTP context over `packet`, returning the plain RTP or the error.
func unprotect(_ context: SRTPContext, _ packet: [UInt8]) -> Result<[UInt8], SRTPError> {
    var bytes = packet
    let result: Result<Int, SRTPError> = bytes.withUnsafeMutableBytes { raw in
        Result { () throws(SRTPError) in try context.unprotect(raw) }
    }
    return result.map { Array(bytes[0..<$0]) }
}

func unprotectRTCP(_ context: SRTPContext, _ packet: [UInt8]) -> Result<[UInt8], SRTPError> {
    var bytes = packet
    let result: Result<Int, SRTPError> = bytes.withUnsafeMutableBytes { raw in
        Result { () throws(SRTPError) in try context.unprotectRTCP(raw) }
    }
    return result.map { Array(bytes[0..<$0]) }
}

/// An `a=crypto` attribute value for `key || salt`.
func cryptoLine(_ suite: SRTPCryptoSuite, key: [UInt8], salt: [UInt8], extra: String = "|2^20") -> String {
    "1 \(suite.rawValue) inline:\(Data(key + salt).base64EncodedString())\(extra)"
}
