public import CallVaultCrypto
public import CallVaultModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The root key as a file of exactly 32 random bytes with mode 0600, owned by the service user.
///
/// The file is the one secret on disk that opens everything, so loading is strict: a symlink, a
/// non-regular file, another owner, any group/other permission bit or a wrong size is refused with the
/// path and the fix, rather than silently used. It is created once, with `O_CREAT|O_EXCL` (never
/// overwritten: a new root key would make every tenant key unreadable) and `fchmod` to 0600 so the umask
/// cannot leave it readable.
public struct FileRootKey: RootKeyProvider {
    /// The size of the root key in bytes (AES-256).
    public static let byteCount = 32

    /// The path of the key file.
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public var sourceDescription: String { path }

    /// Creates the key file with 32 fresh random bytes, or validates the existing one.
    ///
    /// - Returns: true if a new key was written, false if a valid key was already there (untouched).
    @discardableResult
    public func create() throws(KeyStoreError) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd < 0 {
            let code = errno
            guard code == EEXIST else {
                throw KeyStoreError(.ioFailed, "cannot create root key \(path): \(FileSystem.errnoText(code))")
            }
            // Never overwrite; but do not report success for a file we would refuse to load.
            _ = try loadRootKey()
            return false
        }
        do throws(KeyStoreError) {
            guard fchmod(fd, 0o600) == 0 else {
                throw KeyStoreError(.ioFailed, "cannot set mode 0600 on \(path): \(FileSystem.errnoText())")
            }
            let key: SecretKey
            do {
                key = try SecretKey(randomByteCount: Self.byteCount)
            } catch {
                throw KeyStoreError(.cryptoFailed, "cannot generate the root key: \(error)")
            }
            try key.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws(KeyStoreError) in
                var offset = 0
                while offset < bytes.count {
                    let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else {
                        throw KeyStoreError(.ioFailed, "cannot write root key \(path): \(FileSystem.errnoText())")
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else {
                throw KeyStoreError(.ioFailed, "cannot sync root key \(path): \(FileSystem.errnoText())")
            }
        } catch {
            // We created the file, so a half-written one is ours to remove: a later `init` starts clean.
            _ = close(fd)
            _ = unlink(path)
            throw error
        }
        _ = close(fd)
        FileSystem.syncDirectory(parentDirectory)
        return true
    }

    /// Loads the key after checking the file is a private regular file of exactly 32 bytes.
    public func loadRootKey() throws(KeyStoreError) -> SecretKey {
        guard let entry = try FileSystem.lstatEntry(path) else {
            throw KeyStoreError(.rootKeyMissing, "root key \(path) does not exist (run `callvault init` to create it)")
        }
        try check(entry, what: "is")
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            throw KeyStoreError(.ioFailed, "cannot open root key \(path): \(FileSystem.errnoText())")
        }
        defer { _ = close(fd) }
        // Check the file we opened, not the name: it may have been swapped between lstat and open.
        var opened = stat()
        guard fstat(fd, &opened) == 0 else {
            throw KeyStoreError(.ioFailed, "cannot inspect root key \(path): \(FileSystem.errnoText())")
        }
        guard opened.st_dev == entry.st_dev, opened.st_ino == entry.st_ino else {
            throw KeyStoreError(.rootKeyInsecure, "root key \(path) was replaced while it was being opened; try again")
        }
        try check(opened, what: "is")

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.byteCount + 1, alignment: 16)
        defer {
            explicit_bzero(buffer.baseAddress!, buffer.count)
            buffer.deallocate()
        }
        var total = 0
        while total < buffer.count {
            let n = read(fd, buffer.baseAddress! + total, buffer.count - total)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                throw KeyStoreError(.ioFailed, "cannot read root key \(path): \(FileSystem.errnoText())")
            }
            if n == 0 { break }
            total += n
        }
        guard total == Self.byteCount else {
            let found = total > Self.byteCount ? "more than \(Self.byteCount)" : String(total)
            throw KeyStoreError(
                .rootKeyCorrupt,
                "root key \(path) holds \(found) bytes, "
                    + "not \(Self.byteCount) (restore it from your key backup; never replace it while data exists)"
            )
        }
        do {
            return try SecretKey(copying: UnsafeRawBufferPointer(rebasing: buffer[0..<Self.byteCount]))
        } catch {
            throw KeyStoreError(.cryptoFailed, "cannot hold the root key in memory: \(error)")
        }
    }

    private var parentDirectory: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private func check(_ info: stat, what: String) throws(KeyStoreError) {
        if FileSystem.isSymlink(info) {
            throw KeyStoreError(
                .rootKeyInsecure,
                "root key \(path) is a symlink; a symlink is refused (replace it with the key file itself, mode 0600)"
            )
        }
        guard FileSystem.isRegular(info) else {
            throw KeyStoreError(
                .rootKeyInsecure,
                "root key \(path) is not a regular file (move it away and restore the key file)"
            )
        }
        guard info.st_uid == geteuid() else {
            throw KeyStoreError(
                .rootKeyInsecure,
                "root key \(path) is owned by uid \(info.st_uid), not by this user (uid \(geteuid())); "
                    + "run `chown \(geteuid()) \(path)`"
            )
        }
        let mode = FileSystem.permissions(info)
        guard mode & 0o077 == 0 else {
            throw KeyStoreError(
                .rootKeyInsecure,
                "root key \(path) can be read by group or others (mode \(String(mode, radix: 8))); "
                    + "run `chmod 600 \(path)`"
            )
        }
        guard info.st_size == off_t(Self.byteCount) else {
            throw KeyStoreError(
                .rootKeyCorrupt,
                "root key \(path) is \(info.st_size) bytes, not \(Self.byteCount) "
                    + "(restore it from your key backup; never replace it while data exists)"
            )
        }
    }
}
