import Foundation
import Testing
@testable import CallVaultCrypto

/// TOTP (RFC 6238) and the base32 its secrets are shown in (RFC 4648).
@Suite struct TOTPTests {
    /// RFC 6238 Appendix B, the SHA-1 column: the seed is the ASCII of "12345678901234567890", 8 digits.
    static let vectors: [(unixTime: Int64, code: String)] = [
        (59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
    ]

    static func rfcTOTP() throws -> TOTP {
        TOTP(secret: try SecretKey(copying: Array("12345678901234567890".utf8)))
    }

    @Test func codesMatchRFC6238AppendixB() throws {
        let totp = try Self.rfcTOTP()
        for vector in Self.vectors {
            let step = TOTP.step(at: Date(timeIntervalSince1970: TimeInterval(vector.unixTime)))
            #expect(totp.code(step: step, digits: 8) == vector.code, "T = \(vector.unixTime)")
            // The 6 digits in use are the same number's last six.
            #expect(totp.code(step: step) == String(vector.code.suffix(6)))
        }
    }

    @Test func aCodeIsAcceptedOneStepEitherSideOnly() throws {
        let totp = try Self.rfcTOTP()
        let now: Int64 = 1_234_567_890 / 30
        for offset: Int64 in [-1, 0, 1] {
            #expect(totp.matchingStep(totp.code(step: now + offset), around: now) == now + offset)
        }
        #expect(totp.matchingStep(totp.code(step: now - 2), around: now) == nil)
        #expect(totp.matchingStep(totp.code(step: now + 2), around: now) == nil)
        #expect(totp.matchingStep("", around: now) == nil)
        #expect(totp.matchingStep("12345a", around: now) == nil)
        #expect(totp.matchingStep(totp.code(step: now, digits: 8), around: now) == nil, "6 digits in use")
    }

    @Test func aGeneratedSecretIs160BitsAndItsURIIsWhatAppsScan() throws {
        let totp = try TOTP.generate()
        #expect(totp.secret.count == 20)
        #expect(totp.base32Secret.count == 32)
        #expect(Base32.decode(totp.base32Secret) == totp.secret.withUnsafeBytes { Array($0) })
        #expect(totp.uri(account: "alice") == "otpauth://totp/CallVault:alice?secret=\(totp.base32Secret)&issuer=CallVault")
        #expect(try TOTP.generate().base32Secret != totp.base32Secret)
        #expect(!"\(totp.secret)".contains(totp.base32Secret), "no description shows the secret")
    }

    @Test func base32MatchesRFC4648() {
        let vectors = [
            ("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"), ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ]
        for (plain, encoded) in vectors {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(Base32.decode(encoded) == Array(plain.utf8))
            #expect(Base32.decode(encoded.lowercased() + "======") == Array(plain.utf8))
        }
        #expect(Base32.decode("MZ1W") == nil)
    }
}
