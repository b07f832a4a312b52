import CallVaultObjects
import CallVaultTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// ``ObjectStoreConformance`` on ``LocalObjectStore``, and what only a directory has (modes, atomic
/// writes, the layout).
@Suite("Object store: local directory")
struct LocalObjectStoreTests {
    /// A store in a fresh directory, removed after `body`.
    static func withStore(_ body: (LocalObjectStore) async throws -> Void) async throws {
        let directory = try TemporaryDirectory("objects")
        let store = try LocalObjectStore(root: directory.appending("store"))
        try await body(store)
        directory.remove()
    }

    @Test func roundTrip() async throws { try await Self.withStore(ObjectStoreConformance.roundTrip) }
    @Test func keysThatNeedEncoding() async throws {
        try await Self.withStore(ObjectStoreConformance.keysThatNeedEncoding)
    }
    @Test func ranges() async throws { try await Self.withStore(ObjectStoreConformance.ranges) }
    @Test func multipart() async throws { try await Self.withStore(ObjectStoreConformance.multipart) }
    @Test func multipartAbort() async throws { try await Self.withStore(ObjectStoreConformance.multipartAbort) }
    @Test func multipartBadParts() async throws { try await Self.withStore(ObjectStoreConformance.multipartBadParts) }
    @Test func list() async throws { try await Self.withStore(ObjectStoreConformance.list) }
    @Test func delete() async throws { try await Self.withStore(ObjectStoreConformance.delete) }
    @Test func notFound() async throws { try await Self.withStore(ObjectStoreConformance.notFound) }
    @Test func badKeys() async throws { try await Self.withStore(ObjectStoreConformance.badKeys) }

    @Test("folders are 0700, files 0600, and no temporary file is left behind")
    func modes() async throws {
        try await Self.withStore { store in
            _ = try await store.put("t/2026/a.cvr", bytes: [1, 2, 3])
            let upload = try await store.createMultipartUpload("t/2026/b.cvr")
            let part = try await store.uploadPart(upload, number: 1, bytes: [4])
            _ = try await store.completeMultipartUpload(upload, parts: [part])
            for (path, mode) in [
                (store.root, 0o700), (store.root + "/objects/t", 0o700), (store.root + "/objects/t/2026", 0o700),
                (store.root + "/objects/t/2026/a.cvr", 0o600), (store.root + "/objects/t/2026/b.cvr", 0o600),
            ] {
                var status = stat()
                #expect(stat(path, &status) == 0, "\(path)")
                #expect(Int(status.st_mode & 0o777) == mode, "\(path): \(String(status.st_mode & 0o777, radix: 8))")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: store.root + "/tmp").isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: store.root + "/uploads").isEmpty)
        }
    }

    @Test("deleting the last object of a folder removes the folder")
    func deleteTidiesFolders() async throws {
        try await Self.withStore { store in
            _ = try await store.put("x/y/z.cvr", bytes: [1])
            try await store.delete("x/y/z.cvr")
            #expect(!FileManager.default.fileExists(atPath: store.root + "/objects/x"))
        }
    }

    @Test("a key whose folder is an object, or whose object is a folder, is refused with the reason")
    func fileFolderClash() async throws {
        try await Self.withStore { store in
            _ = try await store.put("a/b", bytes: [1])
            let asFile = await ObjectStoreConformance.error { () async throws(ObjectStoreError) in
                try await store.put("a", bytes: [2])
            }
            #expect(asFile?.code == .invalidKey)
            #expect(asFile?.message.contains("cannot hold both") == true, "\(asFile?.message ?? "")")
            let asFolder = await ObjectStoreConformance.error { () async throws(ObjectStoreError) in
                try await store.put("a/b/c", bytes: [3])
            }
            #expect(asFolder?.code == .invalidKey)
            #expect(try await store.get("a/b") == [1])
        }
    }

    @Test("a store reopened on the same directory sees the objects and the open uploads")
    func reopen() async throws {
        let directory = try TemporaryDirectory("objects")
        let first = try LocalObjectStore(root: directory.appending("store"))
        _ = try await first.put("k", bytes: [9])
        let upload = try await first.createMultipartUpload("m")
        let second = try LocalObjectStore(root: directory.appending("store") + "/")
        #expect(try await second.get("k") == [9])
        #expect(try await second.listMultipartUploads(prefix: "") == [upload])
        directory.remove()
    }
}
