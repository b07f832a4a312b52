public import CallVaultCrypto
import CPKCS11
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Keys in a PKCS#11 token: AES-256 token objects that never leave it (`CKA_SENSITIVE`, not
/// extractable); software keys are wrapped inside the token with AES-GCM (`C_Encrypt`, the key's
/// context as associated data), and shredding is `C_DestroyObject`.
///
/// Wrapped form (61 bytes for a 32-byte key): `0x01 ‖ IV (12) ‖ ciphertext ‖ tag (16)`.
///
/// One logged-in session per provider; every call into the module is serialized by the module's lock
/// (PKCS#11 sessions are not thread-safe, and SoftHSM2's file store fails now and then when two
/// sessions of one process change or search its objects at once). A session the token dropped (an
/// HSM restart) is reopened once on the next call.
public final class PKCS11KeyProvider: KeyProvider, @unchecked Sendable {
    /// Which token, and how to log in to it.
    public struct Configuration: Sendable {
        /// The module's path, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
        public var modulePath: String
        /// The token's label.
        public var tokenLabel: String
        /// The user PIN (from `CALLVAULT_PKCS11_PIN` or a 0600 file, never a command-line value).
        public var pin: String

        public init(modulePath: String, tokenLabel: String, pin: String) {
            self.modulePath = modulePath
            self.tokenLabel = tokenLabel
            self.pin = pin
        }
    }

    public let kind = KeyProviderKind.pkcs11
    public let location: String
    private let module: PKCS11Module
    private let slot: CK_SLOT_ID
    private let pin: String
    private var session: CK_SESSION_HANDLE?

    static let formatVersion: UInt8 = 1
    static let ivByteCount = 12
    static let tagByteCount = 16

    /// Loads the module, finds the token and logs in: a wrong PIN or a missing token fails here.
    public init(_ configuration: Configuration) throws(KeyProviderError) {
        module = try PKCS11Module.shared(path: configuration.modulePath)
        slot = try module.slot(tokenLabel: configuration.tokenLabel)
        pin = configuration.pin
        location = "pkcs11:\(configuration.modulePath)#\(configuration.tokenLabel)"
        try withSession { _ throws(KeyProviderError) in }
    }

    deinit {
        module.lock.lock()
        if let session { _ = module.functions.pointee.C_CloseSession(session) }
        module.lock.unlock()
    }

    public func createKey(named name: String) throws(KeyProviderError) {
        try Self.validate(name)
        try withSession { session throws(KeyProviderError) in
            if try find(name, in: session) != nil {
                throw KeyProviderError(.keyExists, "\(location): a key named \(name) exists already")
            }
            var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_AES_KEY_GEN), pParameter: nil, ulParameterLen: 0)
            var handle: CK_OBJECT_HANDLE = 0
            let rv = Attributes.key(label: name).withTemplate { template, count in
                module.functions.pointee.C_GenerateKey(session, &mechanism, template, count, &handle)
            }
            try check(rv, "create key \(name)")
        }
    }

    public func keyExists(named name: String) throws(KeyProviderError) -> Bool {
        try Self.validate(name)
        return try withSession { session throws(KeyProviderError) in try find(name, in: session) != nil }
    }

    public func wrap(_ key: SecretKey, under name: String, context: KeyContext) throws(KeyProviderError) -> [UInt8] {
        try Self.validate(name)
        var iv: [UInt8]
        do { iv = try SecureRandom.bytes(Self.ivByteCount) } catch {
            throw KeyProviderError(.unavailable, "no random bytes for an IV: \(error.message)")
        }
        return try withSession { session throws(KeyProviderError) in
            guard let handle = try find(name, in: session) else { throw notFound(name) }
            var output = [UInt8](repeating: 0, count: key.count + Self.tagByteCount)
            var outputCount = CK_ULONG(output.count)
            var aad = context.encoded
            let rv = Self.withGCM(iv: &iv, aad: &aad) { mechanism in
                let initRV = module.functions.pointee.C_EncryptInit(session, mechanism, handle)
                guard initRV == CKR_OK else { return initRV }
                return key.withUnsafeBytes { plain in
                    module.functions.pointee.C_Encrypt(
                        session, UnsafeMutablePointer(mutating: plain.bindMemory(to: CK_BYTE.self).baseAddress),
                        CK_ULONG(plain.count), &output, &outputCount)
                }
            }
            try check(rv, "wrap a key under \(name)")
            return [Self.formatVersion] + iv + output.prefix(Int(outputCount))
        }
    }

    public func unwrap(_ wrapped: [UInt8], under name: String, context: KeyContext) throws(KeyProviderError)
        -> SecretKey
    {
        try Self.validate(name)
        let headerCount = 1 + Self.ivByteCount
        guard wrapped.count > headerCount + Self.tagByteCount, wrapped[0] == Self.formatVersion else {
            throw KeyProviderError(.unwrapFailed, "\(location): what was to be unwrapped under \(name) is not a wrapped key")
        }
        var iv = Array(wrapped[1..<headerCount])
        var sealed = Array(wrapped[headerCount...])
        var aad = context.encoded
        let keyCount = sealed.count - Self.tagByteCount
        return try withSession { session throws(KeyProviderError) in
            guard let handle = try find(name, in: session) else { throw notFound(name) }
            // Decrypt into locked scratch memory as long as the input (some tokens want room for the
            // tag), then keep the key's bytes; the scratch is wiped when released.
            let scratch: SecretKey
            do throws(CryptoError) { scratch = try SecretKey(randomByteCount: sealed.count) } catch {
                throw KeyProviderError(.unavailable, "no key memory: \(error.message)")
            }
            var count = CK_ULONG(sealed.count)
            let rv = scratch.withUnsafeBytes { raw in
                Self.withGCM(iv: &iv, aad: &aad) { mechanism in
                    let initRV = module.functions.pointee.C_DecryptInit(session, mechanism, handle)
                    guard initRV == CKR_OK else { return initRV }
                    return module.functions.pointee.C_Decrypt(
                        session, &sealed, CK_ULONG(sealed.count),
                        UnsafeMutablePointer(mutating: raw.bindMemory(to: CK_BYTE.self).baseAddress), &count)
                }
            }
            if rv == CK_RV(CKR_ENCRYPTED_DATA_INVALID) || rv == CK_RV(CKR_FUNCTION_FAILED)
                || rv == CK_RV(CKR_GENERAL_ERROR) || rv == CK_RV(CKR_ENCRYPTED_DATA_LEN_RANGE)
            {
                // A GCM tag that does not verify (tokens report it with any of these).
                throw KeyProviderError(
                    .unwrapFailed, "\(location): the wrapped key or its context does not authenticate under \(name)")
            }
            try check(rv, "unwrap a key under \(name)")
            guard Int(count) == keyCount else {
                throw KeyProviderError(.unwrapFailed, "\(location): the key unwrapped under \(name) has the wrong length")
            }
            do throws(CryptoError) {
                return try scratch.withUnsafeBytes { raw throws(CryptoError) in
                    try SecretKey(copying: UnsafeRawBufferPointer(rebasing: raw[0..<keyCount]))
                }
            } catch {
                throw KeyProviderError(.unavailable, "no key memory: \(error.message)")
            }
        }
    }

    @discardableResult
    public func destroyKey(named name: String) throws(KeyProviderError) -> Bool {
        try Self.validate(name)
        return try withSession { session throws(KeyProviderError) in
            guard let handle = try find(name, in: session) else { return false }
            try check(module.functions.pointee.C_DestroyObject(session, handle), "destroy key \(name)")
            return true
        }
    }

    /// A boolean attribute of a token key, read back (for tests that check keys never leave the token).
    enum BooleanAttribute {
        case sensitive, extractable, token

        var type: CK_ATTRIBUTE_TYPE {
            switch self {
            case .sensitive: CK_ATTRIBUTE_TYPE(CKA_SENSITIVE)
            case .extractable: CK_ATTRIBUTE_TYPE(CKA_EXTRACTABLE)
            case .token: CK_ATTRIBUTE_TYPE(CKA_TOKEN)
            }
        }
    }

    func attribute(_ attribute: BooleanAttribute, of name: String) throws(KeyProviderError) -> Bool {
        try withSession { session throws(KeyProviderError) in
            guard let handle = try find(name, in: session) else { throw notFound(name) }
            var value: CK_BBOOL = 0
            let rv = withUnsafeMutablePointer(to: &value) { pointer in
                var template = CK_ATTRIBUTE(
                    type: attribute.type, pValue: UnsafeMutableRawPointer(pointer),
                    ulValueLen: CK_ULONG(MemoryLayout<CK_BBOOL>.size))
                return module.functions.pointee.C_GetAttributeValue(session, handle, &template, 1)
            }
            try check(rv, "read an attribute of \(name)")
            return value != 0
        }
    }

    // MARK: - Sessions and objects

    /// Runs `body` with the logged-in session, opening (and logging in) if needed; a session the token
    /// dropped is reopened once.
    private func withSession<R>(_ body: (CK_SESSION_HANDLE) throws(KeyProviderError) -> R) throws(KeyProviderError) -> R {
        module.lock.lock()
        defer { module.lock.unlock() }
        for attempt in 0..<2 {
            let current = try openSession()
            do {
                return try body(current)
            } catch where error.code == .unavailable && attempt == 0 {
                _ = module.functions.pointee.C_CloseSession(current)
                session = nil
            }
        }
        throw KeyProviderError(.unavailable, "\(location): the token is not answering")
    }

    private func openSession() throws(KeyProviderError) -> CK_SESSION_HANDLE {
        if let session { return session }
        var handle: CK_SESSION_HANDLE = 0
        try check(
            module.functions.pointee.C_OpenSession(slot, CK_FLAGS(CKF_SERIAL_SESSION | CKF_RW_SESSION), nil, nil, &handle),
            "open a session")
        var pinBytes = Array(pin.utf8)
        let rv = module.functions.pointee.C_Login(handle, CK_USER_TYPE(CKU_USER), &pinBytes, CK_ULONG(pinBytes.count))
        for index in pinBytes.indices { pinBytes[index] = 0 }
        if rv != CKR_OK && rv != CK_RV(CKR_USER_ALREADY_LOGGED_IN) {
            _ = module.functions.pointee.C_CloseSession(handle)
            if PKCS11Module.code(rv) == .authenticationFailed {
                throw KeyProviderError(
                    .authenticationFailed,
                    "\(location): the token refused the PIN (\(PKCS11Module.name(rv))); check CALLVAULT_PKCS11_PIN")
            }
            try check(rv, "log in")
        }
        session = handle
        return handle
    }

    /// The handle of the secret key labelled `name`, or nil.
    private func find(_ name: String, in session: CK_SESSION_HANDLE) throws(KeyProviderError) -> CK_OBJECT_HANDLE? {
        let functions = module.functions
        let rv = Attributes.search(label: name).withTemplate { template, count in
            functions.pointee.C_FindObjectsInit(session, template, count)
        }
        try check(rv, "look for key \(name)")
        var handles = [CK_OBJECT_HANDLE](repeating: 0, count: 2)
        var found: CK_ULONG = 0
        let findRV = functions.pointee.C_FindObjects(session, &handles, 2, &found)
        _ = functions.pointee.C_FindObjectsFinal(session)
        try check(findRV, "look for key \(name)")
        guard found <= 1 else {
            throw KeyProviderError(.misconfigured, "\(location): more than one key is labelled \(name); remove the copies")
        }
        return found == 1 ? handles[0] : nil
    }

    private func check(_ rv: CK_RV, _ doing: String) throws(KeyProviderError) {
        guard rv != CKR_OK else { return }
        throw KeyProviderError(PKCS11Module.code(rv), "\(location): cannot \(doing) (\(PKCS11Module.name(rv)))")
    }

    private func notFound(_ name: String) -> KeyProviderError {
        KeyProviderError(.keyNotFound, "\(location): no key named \(name) (destroyed, revoked or never created)")
    }

    /// Names CallVault gives keys: letters, digits, `-`, `_`, `.`, 1…128 bytes (PKCS#11 labels are free
    /// text, but keeping them plain keeps them safe in every provider and log).
    static func validate(_ name: String) throws(KeyProviderError) {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
        guard !name.isEmpty, name.utf8.count <= 128, allowed else {
            throw KeyProviderError(.misconfigured, "a key name must be 1 to 128 letters, digits, '-', '_' or '.'")
        }
    }

    /// Runs `body` with an AES-GCM mechanism over `iv` and `aad` (96-bit IV, 128-bit tag).
    private static func withGCM(
        iv: inout [UInt8], aad: inout [UInt8], _ body: (UnsafeMutablePointer<CK_MECHANISM>) -> CK_RV
    ) -> CK_RV {
        iv.withUnsafeMutableBufferPointer { ivBuffer in
            aad.withUnsafeMutableBufferPointer { aadBuffer in
                var parameters = CK_GCM_PARAMS(
                    pIv: ivBuffer.baseAddress, ulIvLen: CK_ULONG(ivBuffer.count), ulIvBits: CK_ULONG(ivBuffer.count * 8),
                    pAAD: aadBuffer.baseAddress, ulAADLen: CK_ULONG(aadBuffer.count), ulTagBits: CK_ULONG(tagByteCount * 8))
                return withUnsafeMutablePointer(to: &parameters) { pointer in
                    var mechanism = CK_MECHANISM(
                        mechanism: CK_MECHANISM_TYPE(CKM_AES_GCM), pParameter: UnsafeMutableRawPointer(pointer),
                        ulParameterLen: CK_ULONG(MemoryLayout<CK_GCM_PARAMS>.size))
                    return body(&mechanism)
                }
            }
        }
    }
}
