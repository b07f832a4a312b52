import CallVaultCrypto
import CallVaultModel
import CallVaultTestSupport
import Foundation
import Logging
import Testing

@testable import CallVaultStore

#if canImport(Glibc)
    import Glibc
#endif

extension TemporaryDirectory {
    /// A data directory inside, created with its root key, and an opened key store.
    func makeStore(busyTimeout: Double = 2) throws -> (DataDirectory, KeyStore) {
        let directory = DataDirectory(path: path + "/data")
        try directory.create()
        try FileRootKey(path: directory.rootKeyPath).create()
        let store = try KeyStore(dataDirectory: directory, logger: Logger(label: "test"), busyTimeout: busyTimeout)
        return (directory, store)
    }
}

/// The bytes of a key, for comparing keys in tests only.
func bytes(of key: SecretKey) -> [UInt8] {
    key.withUnsafeBytes { Array($0) }
}

/// The file's bytes, or nil if it does not exist.
func fileBytes(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { [UInt8]($0) }
}

/// Whether `needle` occurs anywhere in `haystack`.
func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return false }
    let first = needle[0]
    var i = 0
    let last = haystack.count - needle.count
    while i <= last {
        if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
        i += 1
    }
    return false
}

/// The mode bits of a path (lstat).
func mode(of path: String) -> mode_t? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    return info.st_mode & 0o7777
}

/// Runs `body` and returns the KeyStoreError code it threw; nil if it did not throw (or threw another type).
func errorCode<T>(_ body: () throws -> T) -> KeyStoreError.Code? {
    do {
        _ = try body()
        return nil
    } catch let error as KeyStoreError {
        return error.code
    } catch {
        Issue.record("expected a KeyStoreError, got \(error)")
        return nil
    }
}
