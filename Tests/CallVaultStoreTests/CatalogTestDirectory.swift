import CallVaultTestSupport
import Foundation

@testable import CallVaultStore

/// A fresh data directory under the system's temporary folder.
///
/// Removed by an explicit `defer { directory.remove() }` rather than in `deinit`: ARC may end a
/// value's lifetime after its last use, which would delete the files under an open catalog.
final class CatalogTestDirectory {
    let path: String

    init() throws {
        path = try TemporaryDirectory.make("catalog-tests")
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    var catalogPath: String { path + "/" + Catalog.fileName }

    /// Every byte SQLite has written for the catalog: the main file, its WAL and shared memory,
    /// so a secret cannot hide in a page not yet checkpointed.
    func catalogBytes() throws -> [UInt8] {
        var bytes: [UInt8] = []
        for suffix in ["", "-wal", "-shm", "-journal"] {
            if let data = FileManager.default.contents(atPath: catalogPath + suffix) {
                bytes += data
            }
        }
        return bytes
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs anywhere in these bytes.
    func contains(bytes needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        let first = needle[0]
        var index = 0
        while index <= count - needle.count {
            if self[index] == first, Array(self[index..<(index + needle.count)]) == needle { return true }
            index += 1
        }
        return false
    }
}
