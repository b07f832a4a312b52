import CPKCS11

/// A PKCS#11 attribute template whose values live as long as the call that uses it.
struct Attributes {
    private enum Value {
        case ulong(CK_ULONG)
        case bool(Bool)
        case bytes([UInt8])
    }

    private var items: [(CK_ATTRIBUTE_TYPE, Value)] = []

    /// A new AES-256 token key that never leaves the token: sensitive, not extractable, private,
    /// usable only to encrypt and decrypt (not to wrap or export other keys).
    static func key(label: String) -> Attributes {
        var template = Attributes()
        template.items = [
            (CK_ATTRIBUTE_TYPE(CKA_CLASS), .ulong(CK_ULONG(CKO_SECRET_KEY))),
            (CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), .ulong(CK_ULONG(CKK_AES))),
            (CK_ATTRIBUTE_TYPE(CKA_VALUE_LEN), .ulong(32)),
            (CK_ATTRIBUTE_TYPE(CKA_TOKEN), .bool(true)),
            (CK_ATTRIBUTE_TYPE(CKA_PRIVATE), .bool(true)),
            (CK_ATTRIBUTE_TYPE(CKA_SENSITIVE), .bool(true)),
            (CK_ATTRIBUTE_TYPE(CKA_EXTRACTABLE), .bool(false)),
            (CK_ATTRIBUTE_TYPE(CKA_ENCRYPT), .bool(true)),
            (CK_ATTRIBUTE_TYPE(CKA_DECRYPT), .bool(true)),
            (CK_ATTRIBUTE_TYPE(CKA_WRAP), .bool(false)),
            (CK_ATTRIBUTE_TYPE(CKA_UNWRAP), .bool(false)),
            (CK_ATTRIBUTE_TYPE(CKA_LABEL), .bytes(Array(label.utf8))),
        ]
        return template
    }

    /// What finds a secret key by its label.
    static func search(label: String) -> Attributes {
        var template = Attributes()
        template.items = [
            (CK_ATTRIBUTE_TYPE(CKA_CLASS), .ulong(CK_ULONG(CKO_SECRET_KEY))),
            (CK_ATTRIBUTE_TYPE(CKA_LABEL), .bytes(Array(label.utf8))),
        ]
        return template
    }

    /// Lays the values out in memory and lends `body` the template and its length.
    func withTemplate<R>(_ body: (UnsafeMutablePointer<CK_ATTRIBUTE>, CK_ULONG) -> R) -> R {
        // One buffer holds every value; the attributes point into it.
        var size = 0
        for (_, value) in items {
            switch value {
            case .ulong: size += MemoryLayout<CK_ULONG>.stride
            case .bool: size += MemoryLayout<CK_ULONG>.stride
            case .bytes(let bytes): size += (bytes.count + 7) / 8 * 8
            }
        }
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(size, 8), alignment: 8)
        let attributes = UnsafeMutablePointer<CK_ATTRIBUTE>.allocate(capacity: items.count)
        defer {
            storage.deallocate()
            attributes.deallocate()
        }
        var offset = 0
        for (index, (type, value)) in items.enumerated() {
            let pointer = storage + offset
            let length: Int
            switch value {
            case .ulong(let number):
                pointer.storeBytes(of: number, as: CK_ULONG.self)
                length = MemoryLayout<CK_ULONG>.size
                offset += MemoryLayout<CK_ULONG>.stride
            case .bool(let flag):
                pointer.storeBytes(of: CK_BBOOL(flag ? 1 : 0), as: CK_BBOOL.self)
                length = MemoryLayout<CK_BBOOL>.size
                offset += MemoryLayout<CK_ULONG>.stride
            case .bytes(let bytes):
                bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                length = bytes.count
                offset += (bytes.count + 7) / 8 * 8
            }
            (attributes + index).initialize(to: CK_ATTRIBUTE(type: type, pValue: pointer, ulValueLen: CK_ULONG(length)))
        }
        return body(attributes, CK_ULONG(items.count))
    }
}
