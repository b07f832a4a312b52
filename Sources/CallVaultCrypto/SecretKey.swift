import CLibCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Key material in memory of its own: page-aligned, locked out of swap where allowed, excluded from
/// core dumps where supported, and overwritten with `OPENSSL_cleanse` when the key is released.
///
/// Swift arrays and `Data` may be copied, reallocated and freed without being wiped, so key bytes
/// never live in them here. The class is immutable after `init` (the bytes are written only there),
/// which is why it may be shared across threads. It deliberately has no `Equatable` and no
/// description that shows bytes: compare keys through what they produce, never by value.
public final class SecretKey: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Largest key this type holds; keys are 16–64 bytes, the limit only stops absurd requests.
    public static let maximumByteCount = 64 * 1024

    /// The number of key bytes.
    public let count: Int
    @usableFromInline let storage: UnsafeMutableRawPointer
    private let allocatedByteCount: Int
    private let isLocked: Bool

    /// Allocates `count` zeroed bytes in locked, non-dumpable memory; the caller fills them in.
    init(zeroedByteCount count: Int) throws(CryptoError) {
        guard count >= 1, count <= Self.maximumByteCount else {
            throw CryptoError(.invalidKeyLength, "a key must be 1...\(Self.maximumByteCount) bytes, not \(count)")
        }
        let page = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
        let size = (count + page - 1) / page * page
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, page, size) == 0, let raw else {
            throw CryptoError(.allocationFailed, "could not allocate \(size) bytes of key memory")
        }
        memset(raw, 0, size)
        // Best effort: RLIMIT_MEMLOCK or a container may forbid locking; the key still works.
        self.isLocked = mlock(raw, size) == 0
        #if os(Linux)
        _ = madvise(raw, size, MADV_DONTDUMP)
        #endif
        self.storage = raw
        self.allocatedByteCount = size
        self.count = count
    }

    /// A fresh random key from OpenSSL's CSPRNG (`RAND_bytes`).
    /// - Parameter randomByteCount: key length; 32 for AES-256 and HMAC-SHA256 keys.
    public convenience init(randomByteCount: Int = 32) throws(CryptoError) {
        try self.init(zeroedByteCount: randomByteCount)
        try SecureRandom.fill(UnsafeMutableRawBufferPointer(start: storage, count: count))
    }

    /// A key holding a copy of `bytes`; the caller remains responsible for wiping its own copy.
    public convenience init(copying bytes: UnsafeRawBufferPointer) throws(CryptoError) {
        try self.init(zeroedByteCount: bytes.count)
        if let base = bytes.baseAddress { storage.copyMemory(from: base, byteCount: bytes.count) }
    }

    /// A key of `byteCount` bytes written straight into its locked memory by `fill` (a decryption in an
    /// HSM, a base64 decoder), so no other copy of the bytes exists. If `fill` throws, the memory is
    /// wiped and released.
    public convenience init<E: Error>(
        byteCount: Int, filling fill: (UnsafeMutableRawBufferPointer) throws(E) -> Void
    ) throws(SecretKeyFillError<E>) {
        do {
            try self.init(zeroedByteCount: byteCount)
        } catch {
            throw .crypto(error)
        }
        do {
            try fill(UnsafeMutableRawBufferPointer(start: storage, count: count))
        } catch {
            throw .fill(error)
        }
    }

    /// A key holding a copy of `bytes` (test vectors, fixtures). Prefer the buffer form for real keys.
    public convenience init(copying bytes: [UInt8]) throws(CryptoError) {
        try self.init(zeroedByteCount: bytes.count)
        let target = storage
        bytes.withUnsafeBytes { target.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    deinit {
        OPENSSL_cleanse(storage, allocatedByteCount)
        if isLocked { _ = munlock(storage, allocatedByteCount) }
        free(storage)
    }

    /// Lends the key bytes to `body`; they must not escape it (copy them into another `SecretKey`).
    @inlinable
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: storage, count: count))
    }

    /// Mutable access for primitives in this module that derive or unwrap straight into the key.
    func withUnsafeMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeMutableRawBufferPointer(start: storage, count: count))
    }

    public var description: String { "SecretKey(\(count) bytes)" }
    public var debugDescription: String { description }
}

/// Why ``SecretKey/init(byteCount:filling:)`` failed: no key memory, or the filler's own error.
public enum SecretKeyFillError<E: Error>: Error {
    case crypto(CryptoError)
    case fill(E)
}
