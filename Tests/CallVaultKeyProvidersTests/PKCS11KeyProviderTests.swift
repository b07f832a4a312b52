import CallVaultCrypto
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultKeyProviders

/// The PKCS#11 provider against a real token (SoftHSM2): keys made and destroyed inside it, keys
/// wrapped and unwrapped by it, and every failure closed with an error that names the token.
@Suite(
    "PKCS#11 key provider on SoftHSM2", .timeLimit(.minutes(15)),
    .enabled(if: Services.required || SoftHSMToken.isInstalled, "CALLVAULT_SKIP_SERVICES=1 and SoftHSM2 is missing"))
struct PKCS11KeyProviderTests {
    private func provider(pin: String = SoftHSMToken.pin, label: String = SoftHSMToken.label) throws -> PKCS11KeyProvider {
        if let reason = SoftHSMToken.unavailableReason { Issue.record(Comment(rawValue: reason)) }
        _ = try SoftHSMToken.prepare()
        return try PKCS11KeyProvider(.init(modulePath: SoftHSMToken.modulePath, tokenLabel: label, pin: pin))
    }

    private func name() -> String { "cv-test-" + UUID().uuidString.lowercased() }
    private let context = KeyContext(tenantID: "t1", keyID: "k1", purpose: "day:voice")

    @Test func aKeyMadeInTheTokenWrapsAndUnwrapsAndIsDestroyedForGood() throws {
        let hsm = try provider()
        let kek = name()
        #expect(try !hsm.keyExists(named: kek))
        try hsm.createKey(named: kek)
        #expect(try hsm.keyExists(named: kek))
        let key = try SecretKey(randomByteCount: 32)
        let wrapped = try hsm.wrap(key, under: kek, context: context)
        #expect(wrapped.count == 1 + 12 + 32 + 16)
        let again = try hsm.wrap(key, under: kek, context: context)
        #expect(again != wrapped, "a fresh IV per wrap")
        let unwrapped = try hsm.unwrap(wrapped, under: kek, context: context)
        #expect(unwrapped.withUnsafeBytes { Array($0) } == key.withUnsafeBytes { Array($0) })

        #expect(try hsm.destroyKey(named: kek))
        #expect(try !hsm.keyExists(named: kek))
        let gone = #expect(throws: KeyProviderError.self) { try hsm.unwrap(wrapped, under: kek, context: context) }
        #expect(gone?.code == .keyNotFound && gone?.message.contains(kek) == true)
        #expect(try !hsm.destroyKey(named: kek), "a second destroy finds nothing")
    }

    @Test func aChangedContextOrByteDoesNotUnwrap() throws {
        let hsm = try provider()
        let kek = name()
        try hsm.createKey(named: kek)
        defer { _ = try? hsm.destroyKey(named: kek) }
        let wrapped = try hsm.wrap(try SecretKey(randomByteCount: 32), under: kek, context: context)
        let other = KeyContext(tenantID: "t2", keyID: "k1", purpose: "day:voice")
        #expect(throws: KeyProviderError.self) { try hsm.unwrap(wrapped, under: kek, context: other) }
        for index in [0, 5, 20, wrapped.count - 1] {
            var flipped = wrapped
            flipped[index] ^= 0x01
            let error = #expect(throws: KeyProviderError.self) { try hsm.unwrap(flipped, under: kek, context: context) }
            #expect(error?.code == .unwrapFailed, "byte \(index): \(String(describing: error))")
        }
        #expect(throws: KeyProviderError.self) { try hsm.unwrap([1, 2, 3], under: kek, context: context) }
    }

    @Test func anExistingNameIsNeverReplaced() throws {
        let hsm = try provider()
        let kek = name()
        try hsm.createKey(named: kek)
        defer { _ = try? hsm.destroyKey(named: kek) }
        let error = #expect(throws: KeyProviderError.self) { try hsm.createKey(named: kek) }
        #expect(error?.code == .keyExists)
        #expect(throws: KeyProviderError.self) { try hsm.createKey(named: "bad name/../x") }
    }

    @Test func aWrongPINAMissingTokenOrModuleFailClosedWithTheirReason() throws {
        _ = try provider()
        let pin = #expect(throws: KeyProviderError.self) { try provider(pin: "9999", label: SoftHSMToken.otherLabel) }
        #expect(pin?.code == .authenticationFailed && pin?.message.contains("CKR_PIN_INCORRECT") == true)
        #expect(pin?.message.contains("9999") == false, "the PIN is never in a message")
        let token = #expect(throws: KeyProviderError.self) { try provider(label: "no-such-token") }
        #expect(token?.code == .misconfigured && token?.message.contains(SoftHSMToken.label) == true)
        let module = #expect(throws: KeyProviderError.self) {
            try PKCS11KeyProvider(.init(modulePath: "/nonexistent/libnothing.so", tokenLabel: "x", pin: "1"))
        }
        #expect(module?.code == .unavailable && module?.message.contains("/nonexistent/libnothing.so") == true)
    }

    @Test func keysAreSensitiveAndNeverLeaveTheToken() throws {
        let hsm = try provider()
        let kek = name()
        try hsm.createKey(named: kek)
        defer { _ = try? hsm.destroyKey(named: kek) }
        #expect(try hsm.attribute(.sensitive, of: kek) == true)
        #expect(try hsm.attribute(.extractable, of: kek) == false)
        #expect(try hsm.attribute(.token, of: kek) == true)
    }

    @Test func wrapsAndUnwrapsPerSecond() throws {
        let hsm = try provider()
        let kek = name()
        try hsm.createKey(named: kek)
        defer { _ = try? hsm.destroyKey(named: kek) }
        let key = try SecretKey(randomByteCount: 32)
        let count = 2000
        let start = ContinuousClock.now
        var wrapped: [[UInt8]] = []
        for _ in 0..<count { wrapped.append(try hsm.wrap(key, under: kek, context: context)) }
        let wrapTime = ContinuousClock.now - start
        let middle = ContinuousClock.now
        for blob in wrapped { _ = try hsm.unwrap(blob, under: kek, context: context) }
        let unwrapTime = ContinuousClock.now - middle
        let perSecond = { (time: Duration) in Int(Double(count) / (Double(time.components.attoseconds) / 1e18 + Double(time.components.seconds))) }
        print("SoftHSM2 figures: \(perSecond(wrapTime)) wraps/s, \(perSecond(unwrapTime)) unwraps/s (\(count) each, one session)")
        #expect(wrapped.count == count)
    }
}
