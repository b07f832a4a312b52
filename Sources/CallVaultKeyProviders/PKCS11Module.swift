import CPKCS11
import Foundation
import Synchronization

/// A PKCS#11 module (`libsofthsm2.so`, a network HSM's client library) loaded through p11-kit, which
/// calls `C_Initialize` for us and lets several users of one module share it safely.
///
/// Owns the function list: the module is finalized and released when this is.
final class PKCS11Module: @unchecked Sendable {
    let path: String
    let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    /// Serializes every call into the module from this process: one call at a time per session is what
    /// PKCS#11 asks, and SoftHSM2's file store fails object changes now and then (`CKR_GENERAL_ERROR`)
    /// when another session searches or writes at the same moment.
    let lock = NSLock()

    private static let loaded = Mutex<[String: PKCS11Module]>([:])

    /// The module at `path`, loaded once per process and shared by every provider that uses it.
    static func shared(path: String) throws(KeyProviderError) -> PKCS11Module {
        try loaded.withLock { (modules: inout [String: PKCS11Module]) throws(KeyProviderError) -> PKCS11Module in
            if let module = modules[path] { return module }
            let module = try PKCS11Module(path: path)
            modules[path] = module
            return module
        }
    }

    /// Loads and initializes the module at `path`. The corresponding C functions are
    /// `p11_kit_module_load` and `p11_kit_module_initialize`.
    init(path: String) throws(KeyProviderError) {
        guard let functions = p11_kit_module_load(path, 0) else {
            throw KeyProviderError(
                .unavailable, "cannot load the PKCS#11 module \(path): check the path and that the library is installed")
        }
        let rv = p11_kit_module_initialize(functions)
        guard rv == CKR_OK else {
            p11_kit_module_release(functions)
            throw KeyProviderError(
                .unavailable, "the PKCS#11 module \(path) failed to initialize (\(PKCS11Module.name(rv)))")
        }
        self.path = path
        self.functions = functions
    }

    deinit {
        _ = p11_kit_module_finalize(functions)
        p11_kit_module_release(functions)
    }

    /// The slot holding the token labelled `label`.
    func slot(tokenLabel label: String) throws(KeyProviderError) -> CK_SLOT_ID {
        lock.lock()
        defer { lock.unlock() }
        var count: CK_ULONG = 0
        try check(functions.pointee.C_GetSlotList(1, nil, &count), "list the slots")
        var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
        try check(functions.pointee.C_GetSlotList(1, &slots, &count), "list the slots")
        var labels: [String] = []
        for slot in slots.prefix(Int(count)) {
            var info = CK_TOKEN_INFO()
            guard functions.pointee.C_GetTokenInfo(slot, &info) == CKR_OK else { continue }
            let found = withUnsafeBytes(of: info.label) { raw in
                String(decoding: raw, as: UTF8.self).trimmingTrailingSpaces
            }
            if found == label { return slot }
            labels.append(found)
        }
        throw KeyProviderError(
            .misconfigured,
            "no token labelled \"\(label)\" in the PKCS#11 module \(path) (tokens present: \(labels.isEmpty ? "none" : labels.joined(separator: ", ")))"
        )
    }

    /// Throws unless `rv` is `CKR_OK`, naming what was being done.
    func check(_ rv: CK_RV, _ doing: String) throws(KeyProviderError) {
        guard rv != CKR_OK else { return }
        throw KeyProviderError(Self.code(rv), "PKCS#11 module \(path): cannot \(doing) (\(Self.name(rv)))")
    }

    /// What a PKCS#11 return value means for CallVault.
    static func code(_ rv: CK_RV) -> KeyProviderError.Code {
        switch rv {
        case CK_RV(CKR_PIN_INCORRECT), CK_RV(CKR_PIN_LOCKED), CK_RV(CKR_PIN_EXPIRED), CK_RV(CKR_PIN_INVALID),
            CK_RV(CKR_PIN_LEN_RANGE), CK_RV(CKR_USER_NOT_LOGGED_IN), CK_RV(CKR_USER_PIN_NOT_INITIALIZED):
            .authenticationFailed
        case CK_RV(CKR_KEY_HANDLE_INVALID), CK_RV(CKR_OBJECT_HANDLE_INVALID):
            .keyNotFound
        case CK_RV(CKR_ENCRYPTED_DATA_INVALID), CK_RV(CKR_ENCRYPTED_DATA_LEN_RANGE):
            .unwrapFailed
        case CK_RV(CKR_TOKEN_NOT_PRESENT), CK_RV(CKR_TOKEN_NOT_RECOGNIZED), CK_RV(CKR_DEVICE_REMOVED),
            CK_RV(CKR_DEVICE_ERROR), CK_RV(CKR_DEVICE_MEMORY), CK_RV(CKR_SESSION_HANDLE_INVALID),
            CK_RV(CKR_SESSION_CLOSED), CK_RV(CKR_CRYPTOKI_NOT_INITIALIZED), CK_RV(CKR_HOST_MEMORY),
            CK_RV(CKR_OPERATION_ACTIVE):
            // An operation left active by a failed call is cleared by reopening the session.
            .unavailable
        case CK_RV(CKR_MECHANISM_INVALID), CK_RV(CKR_MECHANISM_PARAM_INVALID), CK_RV(CKR_TEMPLATE_INCONSISTENT),
            CK_RV(CKR_ATTRIBUTE_VALUE_INVALID), CK_RV(CKR_TOKEN_WRITE_PROTECTED):
            .misconfigured
        default:
            .refused
        }
    }

    /// The standard's name of a return value, for messages.
    static func name(_ rv: CK_RV) -> String {
        let names: [CK_RV: String] = [
            CK_RV(CKR_PIN_INCORRECT): "CKR_PIN_INCORRECT", CK_RV(CKR_PIN_LOCKED): "CKR_PIN_LOCKED",
            CK_RV(CKR_KEY_HANDLE_INVALID): "CKR_KEY_HANDLE_INVALID",
            CK_RV(CKR_OBJECT_HANDLE_INVALID): "CKR_OBJECT_HANDLE_INVALID",
            CK_RV(CKR_ENCRYPTED_DATA_INVALID): "CKR_ENCRYPTED_DATA_INVALID",
            CK_RV(CKR_ENCRYPTED_DATA_LEN_RANGE): "CKR_ENCRYPTED_DATA_LEN_RANGE",
            CK_RV(CKR_TOKEN_NOT_PRESENT): "CKR_TOKEN_NOT_PRESENT", CK_RV(CKR_DEVICE_REMOVED): "CKR_DEVICE_REMOVED",
            CK_RV(CKR_DEVICE_ERROR): "CKR_DEVICE_ERROR", CK_RV(CKR_SESSION_HANDLE_INVALID): "CKR_SESSION_HANDLE_INVALID",
            CK_RV(CKR_USER_NOT_LOGGED_IN): "CKR_USER_NOT_LOGGED_IN",
            CK_RV(CKR_MECHANISM_INVALID): "CKR_MECHANISM_INVALID",
            CK_RV(CKR_MECHANISM_PARAM_INVALID): "CKR_MECHANISM_PARAM_INVALID",
            CK_RV(CKR_TEMPLATE_INCONSISTENT): "CKR_TEMPLATE_INCONSISTENT",
            CK_RV(CKR_FUNCTION_FAILED): "CKR_FUNCTION_FAILED", CK_RV(CKR_GENERAL_ERROR): "CKR_GENERAL_ERROR",
            CK_RV(CKR_ARGUMENTS_BAD): "CKR_ARGUMENTS_BAD", CK_RV(CKR_OPERATION_ACTIVE): "CKR_OPERATION_ACTIVE",
            CK_RV(CKR_BUFFER_TOO_SMALL): "CKR_BUFFER_TOO_SMALL",
        ]
        return names[rv] ?? "CK_RV 0x" + String(rv, radix: 16)
    }
}

extension String {
    /// A PKCS#11 label without the spaces that pad it to its fixed length.
    var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " || text.last == "\0" { text.removeLast() }
        return text
    }
}
