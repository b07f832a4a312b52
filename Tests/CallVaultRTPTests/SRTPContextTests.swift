import CallVaultSIP
import Foundation
import Testing

@testable import CallVaultRTP

@Suite struct SRTPContextTests {
    static let masterKey = hex("E1F97A0D3E018BE0D64FA32C06DE4139")
    static let masterSalt = hex("0EC675AD498AFEEBB6960B3AABE6")

    static func crypto(_ value: String) throws -> SDPCrypto {
        let sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:\(value)\r\n"
        let session = try SDPSession.parse(Array(sdp.utf8), limits: .default)
        return try #require(session.media.first?.crypto.first)
    }

    static func context(_ suite: SRTPCryptoSuite = .aesCM128HMACSHA1_80, extra: String = "|2^20") throws -> SRTPContext {
        try SRTPContext(crypto: crypto(cryptoLine(suite, key: masterKey, salt: masterSalt, extra: extra)))
    }

    @Test(arguments: SRTPCryptoSuite.allCases)
    func roundTripAcrossTheSequenceWrap(suite: SRTPCryptoSuite) throws {
        let context = try Self.context(suite)
        let sender = SRTPTestSender(masterKey: Self.masterKey, masterSalt: Self.masterSalt, suite: suite)
        var roc: UInt32 = 0
        var seq: UInt16 = 65_530
        for i in 0..<20 {
            let rtp = rtpPacket(pt: 0, seq: seq, ts: UInt32(160 * i), ssrc: 0xCAFE, payload: (0..<160).map { UInt8(truncatingIfNeeded: $0 + i) })
            let srtp = sender.protect(rtp, roc: roc)
            #expect(srtp.count == rtp.count + suite.rtpTagLength)
            #expect(srtp[12...] != rtp[12...])
            #expect(try unprotect(context, srtp).get() == rtp)
            seq &+= 1
            if seq == 0 { roc += 1 }
        }
        #expect(context.rollover == 1)
    }

    @Test func reorderedAcrossTheWrapUsesThePreviousRollover() throws {
        let context = try Self.context()
        let sender = SRTPTestSender(masterKey: Self.masterKey, masterSalt: Self.masterSalt, suite: .aesCM128HMACSHA1_80)
        let a = rtpPacket(pt: 0, seq: 65_534, ts: 0, ssrc: 1, payload: [1, 2, 3])
        let b = rtpPacket(pt: 0, seq: 1, ts: 480, ssrc: 1, payload: [4, 5, 6])
        let late = rtpPacket(pt: 0, seq: 65_535, ts: 160, ssrc: 1, payload: [7, 8, 9])
        #expect(try unprotect(context, sender.protect(a, roc: 0)).get() == a)
        #expect(try unprotect(context, sender.protect(b, roc: 1)).get() == b)
        #expect(try unprotect(context, sender.protect(late, roc: 0)).get() == late)
    }

    @Test func tamperingReplayAndAgeAreRefused() throws {
        let context = try Self.context()
        let sender = SRTPTestSender(masterKey: Self.masterKey, masterSalt: Self.masterSalt, suite: .aesCM128HMACSHA1_80)
        let first = sender.protect(rtpPacket(pt: 0, seq: 10, ts: 0, ssrc: 7, payload: [1, 2, 3, 4]), roc: 0)
        #expect(throws: Never.self) { try unprotect(context, first).get() }
        #expect(unprotect(context, first) == .failure(.replayed))
        for position in [1, 5, 13, first.count - 1] {
            var tampered = sender.protect(rtpPacket(pt: 0, seq: 11, ts: 160, ssrc: 7, payload: [1, 2, 3, 4]), roc: 0)
            tampered[position] ^= 0x01
            #expect(unprotect(context, tampered) == .failure(.authenticationFailed))
        }
        // The tampered packets moved nothing: the genuine seq 11 still goes through.
        #expect(throws: Never.self) { try unprotect(context, sender.protect(rtpPacket(pt: 0, seq: 11, ts: 160, ssrc: 7, payload: [1, 2, 3, 4]), roc: 0)).get() }
        for seq: UInt16 in 12..<100 {
            _ = unprotect(context, sender.protect(rtpPacket(pt: 0, seq: seq, ts: 0, ssrc: 7, payload: [0]), roc: 0))
        }
        #expect(unprotect(context, sender.protect(rtpPacket(pt: 0, seq: 20, ts: 0, ssrc: 7, payload: [0]), roc: 0)) == .failure(.tooOld))
        #expect(unprotect(context, [0x80, 0, 0, 1]) == .failure(.packetTooShort(4)))
    }

    @Test func ssrcChangeAfterAuthenticationStartsFreshStateAndRetiresTheOldOne() throws {
        let context = try Self.context()
        let sender = SRTPTestSender(masterKey: Self.masterKey, masterSalt: Self.masterSalt, suite: .aesCM128HMACSHA1_80)
        let old = sender.protect(rtpPacket(pt: 0, seq: 500, ts: 0, ssrc: 1, payload: [1]), roc: 0)
        #expect(throws: Never.self) { try unprotect(context, old).get() }
        #expect(throws: Never.self) { try unprotect(context, sender.protect(rtpPacket(pt: 0, seq: 9, ts: 0, ssrc: 2, payload: [1]), roc: 0)).get() }
        #expect(unprotect(context, old) == .failure(.retiredSSRC))
    }

    @Test func mkiIsCheckedAndRemoved() throws {
        let context = try Self.context(extra: "|2^20|1:1")
        #expect(context.mkiLength == 1)
        let sender = SRTPTestSender(masterKey: Self.masterKey, masterSalt: Self.masterSalt, suite: .aesCM128HMACSHA1_80, mki: [1])
        let rtp = rtpPacket(pt: 0, seq: 1, ts: 0, payload: [9, 9])
        #expect(try unprotect(context, sender.protect(rtp, roc: 0)).get() == rtp)
        let wrong = SRTPTestSender(masterKey: Self.masterKey, masterSalt: Self.masterSalt, suite: .aesCM128HMACSHA1_80, mki: [2])
        #expect(unprotect(context, wrong.protect(rtpPacket(pt: 0, seq: 2, ts: 0, payload: [9]), roc: 0)) == .failure(.unknownMKI))
    }

    @Test func badKeysAreTypedErrorsThatNeverEchoTheKey() throws {
        let key = Data(Self.masterKey + Self.masterSalt).base64EncodedString()
        func refusal(_ value: String) throws -> SRTPError? {
            let crypto = try Self.crypto(value)
            do throws(SRTPError) {
                _ = try SRTPKeyParameters(crypto: crypto)
                return nil
            } catch {
                #expect(!error.description.contains(key.prefix(12)), "the message echoes the key")
                return error
            }
        }
        #expect(try refusal("1 AES_256_CM_HMAC_SHA1_80 inline:\(key)") == .unsupportedSuite("AES_256_CM_HMAC_SHA1_80"))
        #expect(try refusal("1 AES_CM_128_HMAC_SHA1_80 inline:\(key.dropLast(4))") == .wrongKeyLength(27))
        #expect(try refusal("1 AES_CM_128_HMAC_SHA1_80 inline:\(key)!") == .invalidKeyParameter(reason: "the key is not valid base64"))
        #expect(try refusal("1 AES_CM_128_HMAC_SHA1_80 uri:\(key)") != nil)
        #expect(try refusal("1 AES_CM_128_HMAC_SHA1_80 inline:\(key)|2^99") != nil)
        #expect(try refusal("1 AES_CM_128_HMAC_SHA1_80 inline:\(key)|1:9") != nil)
        #expect(try refusal("1 AES_CM_128_HMAC_SHA1_80 inline:\(key) KDR=1") == .unsupportedSessionParameter("KDR=1"))
        #expect(try refusal("1 AES_CM_128_HMAC_SHA1_80 inline:\(key) UNENCRYPTED_SRTP") == .unsupportedSessionParameter("UNENCRYPTED_SRTP"))
        #expect(try refusal("1 AES_CM_128_HMAC_SHA1_32 inline:\(key)|2^31|1:4 KDR=0") == nil)
        let parameters = try SRTPKeyParameters(crypto: Self.crypto("1 AES_CM_128_HMAC_SHA1_32 inline:\(key)|1:4"))
        #expect(parameters.suite == .aesCM128HMACSHA1_32)
        #expect(parameters.masterKey == Self.masterKey)
        #expect(parameters.masterSalt == Self.masterSalt)
        #expect(parameters.mkiLength == 4 && parameters.mki == 1)
        #expect(!parameters.description.contains(key.prefix(8)))
    }
}
