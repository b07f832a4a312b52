import CallVaultModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The few POSIX file calls the store needs, with errors that name the path and the fix.
///
/// Plain POSIX rather than Foundation because the checks that matter here (lstat vs. stat, O_EXCL,
/// O_NOFOLLOW, fchmod, owner uid) are exactly the ones Foundation hides.
enum FileSystem {
    /// The text of `errno` (strerror), for messages.
    static func errnoText(_ code: CInt = errno) -> String {
        String(cString: strerror(code))
    }

    /// `lstat(2)`: the entry itself, not what a symlink points to; nil if it does not exist.
    static func lstatEntry(_ path: String) throws(KeyStoreError) -> stat? {
        var info = stat()
        if lstat(path, &info) == 0 { return info }
        let code = errno
        if code == ENOENT { return nil }
        throw KeyStoreError(.ioFailed, "cannot inspect \(path): \(errnoText(code))")
    }

    static func isDirectory(_ info: stat) -> Bool { (info.st_mode & S_IFMT) == S_IFDIR }
    static func isRegular(_ info: stat) -> Bool { (info.st_mode & S_IFMT) == S_IFREG }
    static func isSymlink(_ info: stat) -> Bool { (info.st_mode & S_IFMT) == S_IFLNK }
    static func permissions(_ info: stat) -> mode_t { info.st_mode & 0o7777 }

    /// Makes one directory with mode 0700 (chmod after mkdir, so the umask cannot widen or narrow it).
    ///
    /// Returns true if it was created, false if a directory was already there. An existing directory
    /// that group or others can reach, a symlink, or a non-directory is refused: recordings and keys
    /// must not sit where other users can list or swap them.
    @discardableResult
    static func makePrivateDirectory(_ path: String) throws(KeyStoreError) -> Bool {
        if mkdir(path, 0o700) == 0 {
            guard chmod(path, 0o700) == 0 else {
                throw KeyStoreError(.ioFailed, "cannot set mode 0700 on \(path): \(errnoText())")
            }
            return true
        }
        let code = errno
        guard code == EEXIST else {
            throw KeyStoreError(.ioFailed, "cannot create directory \(path): \(errnoText(code))")
        }
        try checkPrivateDirectory(path)
        return false
    }

    /// Refuses a path that is not a directory of ours with mode 0700 or stricter.
    static func checkPrivateDirectory(_ path: String) throws(KeyStoreError) {
        guard let info = try lstatEntry(path) else {
            throw KeyStoreError(.directoryMissing, "data directory \(path) does not exist")
        }
        guard isDirectory(info) else {
            throw KeyStoreError(
                .directoryInsecure,
                "\(path) is not a directory (a symlink or file is not accepted; move it away)"
            )
        }
        guard info.st_uid == geteuid() else {
            throw KeyStoreError(
                .directoryInsecure,
                "\(path) is owned by uid \(info.st_uid), not by this user (uid \(geteuid()))"
            )
        }
        guard permissions(info) & 0o077 == 0 else {
            throw KeyStoreError(
                .directoryInsecure,
                "\(path) can be reached by group or others (mode \(String(permissions(info), radix: 8))); "
                    + "run `chmod 700 \(path)`"
            )
        }
    }

    /// `fsync` on a directory, so that a new entry in it survives a crash.
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        _ = close(fd)
    }

    /// Creates `path` as an empty regular file with mode 0600 if it does not exist yet.
    ///
    /// SQLite gives its `-wal` and `-shm` files the mode of the database file, so creating the database
    /// file ourselves with 0600 keeps all three private whatever the umask.
    static func ensurePrivateFile(_ path: String) throws(KeyStoreError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd >= 0 {
            defer { _ = close(fd) }
            guard fchmod(fd, 0o600) == 0 else {
                throw KeyStoreError(.ioFailed, "cannot set mode 0600 on \(path): \(errnoText())")
            }
            return
        }
        let code = errno
        guard code == EEXIST else {
            throw KeyStoreError(.ioFailed, "cannot create \(path): \(errnoText(code))")
        }
        guard let info = try lstatEntry(path), isRegular(info) else {
            throw KeyStoreError(.ioFailed, "\(path) exists but is not a regular file (move it away)")
        }
    }
}
