import CallVaultObjects
import CallVaultTestSupport
import Foundation
import Testing

/// The behaviour every ``ObjectStore`` must have, run against each implementation by
/// `LocalObjectStoreTests` and `S3ObjectStoreTests` (one `@Test` there per check here), so code
/// written against the local directory behaves the same against a bucket.
enum ObjectStoreConformance {
    /// Reproducible bytes of `count`, different per `seed`.
    static func bytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var random = SeededRandom(seed: seed)
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            let word = random.next()
            withUnsafeBytes(of: word) { out.append(contentsOf: $0.prefix(count - out.count)) }
        }
        return out
    }

    /// The thrown ``ObjectStoreError`` of `body` (nil when it did not throw), checked to hold none of
    /// `secrets` in its message or descriptions.
    static func error<T>(
        hiding secrets: [String] = [],
        _ body: () async throws(ObjectStoreError) -> T,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async -> ObjectStoreError? {
        do {
            _ = try await body()
            return nil
        } catch {
            for secret in secrets where !secret.isEmpty {
                #expect(
                    !error.message.contains(secret),
                    "an error message holds a secret",
                    sourceLocation: sourceLocation
                )
                #expect(
                    !String(describing: error).contains(secret) && !String(reflecting: error).contains(secret),
                    "an error's description holds a secret",
                    sourceLocation: sourceLocation
                )
            }
            return error
        }
    }

    static func roundTrip(_ store: some ObjectStore) async throws {
        let first = bytes(10_000, seed: 1)
        let put = try await store.put("tenant-1/2026/05/01/rec-1.cvr", bytes: first)
        #expect(put.key == "tenant-1/2026/05/01/rec-1.cvr")
        #expect(put.size == first.count)
        #expect(!put.etag.isEmpty)
        #expect(try await store.get("tenant-1/2026/05/01/rec-1.cvr") == first)
        let head = try await store.head("tenant-1/2026/05/01/rec-1.cvr")
        #expect(head.size == first.count)
        #expect(head.etag == put.etag)
        #expect(head.lastModified != nil)
        // Putting again replaces the object, and its tag changes.
        let second = bytes(777, seed: 2)
        let replaced = try await store.put("tenant-1/2026/05/01/rec-1.cvr", bytes: second)
        #expect(try await store.get("tenant-1/2026/05/01/rec-1.cvr") == second)
        #expect(replaced.etag != put.etag)
        // An empty object is an object.
        _ = try await store.put("empty", bytes: [])
        #expect(try await store.get("empty") == [])
        #expect(try await store.head("empty").size == 0)
    }

    static func keysThatNeedEncoding(_ store: some ObjectStore) async throws {
        let keys = ["tenant a/ä+b c.cvr", "t/100%/x=y&z?.cvr", "t/~tilde_(1)*'!.cvr", "t/ሴ/日本.cvr"]
        for (index, key) in keys.enumerated() {
            let content = bytes(100 + index, seed: UInt64(index))
            _ = try await store.put(key, bytes: content)
            #expect(try await store.get(key) == content, "\(key)")
            #expect(try await store.head(key).size == content.count, "\(key)")
        }
        let listed = try await store.list(prefix: "t").map(\.key)
        #expect(Set(listed) == Set(keys.filter { $0.hasPrefix("t") }))
        #expect(try await store.list(prefix: "tenant a/").map(\.key) == ["tenant a/ä+b c.cvr"])
        for key in keys { try await store.delete(key) }
        #expect(try await store.list(prefix: "").isEmpty)
    }

    static func ranges(_ store: some ObjectStore) async throws {
        let content = bytes(1000, seed: 3)
        _ = try await store.put("ranged", bytes: content)
        for (offset, length) in [(0, 1), (10, 100), (999, 1), (0, 1000), (500, 500)] {
            let got = try await store.get("ranged", range: ByteRange(offset: offset, length: length))
            #expect(got == Array(content[offset..<offset + length]), "bytes \(offset)+\(length)")
        }
        // A range that runs past the end, starts past it, or is empty: refused, naming the size.
        for (offset, length) in [(990, 20), (1000, 1), (5000, 10)] {
            let error = await error { () async throws(ObjectStoreError) in
                try await store.get("ranged", range: ByteRange(offset: offset, length: length))
            }
            #expect(error?.code == .invalidRange, "bytes \(offset)+\(length)")
            #expect(error?.message.contains("has 1000 bytes") == true, "\(error?.message ?? "no error")")
            #expect(error?.message.contains("ranged") == true)
        }
        for (offset, length) in [(0, 0), (-1, 5)] {
            let error = await error { () async throws(ObjectStoreError) in
                try await store.get("ranged", range: ByteRange(offset: offset, length: length))
            }
            #expect(error?.code == .invalidRange, "bytes \(offset)+\(length)")
        }
    }

    static func multipart(_ store: some ObjectStore) async throws {
        let part1 = bytes(MultipartUpload.minimumPartSize, seed: 4)
        let part2 = bytes(MultipartUpload.minimumPartSize + 17, seed: 5)
        let part3 = bytes(1234, seed: 6)
        let upload = try await store.createMultipartUpload("calls/long.cvr")
        #expect(upload.key == "calls/long.cvr")
        #expect(try await store.listMultipartUploads(prefix: "calls/").contains(upload))
        // Parts may arrive out of order; completion lists them in order.
        let second = try await store.uploadPart(upload, number: 2, bytes: part2)
        let first = try await store.uploadPart(upload, number: 1, bytes: part1)
        let third = try await store.uploadPart(upload, number: 3, bytes: part3)
        // The object appears only on completion.
        let before = await error { () async throws(ObjectStoreError) in try await store.head("calls/long.cvr") }
        #expect(before?.code == .notFound)
        let info = try await store.completeMultipartUpload(upload, parts: [first, second, third])
        #expect(info.size == part1.count + part2.count + part3.count)
        #expect(try await store.get("calls/long.cvr") == part1 + part2 + part3)
        let tail = try await store.get("calls/long.cvr", range: ByteRange(offset: part1.count - 3, length: 10))
        #expect(tail == Array((part1 + part2)[(part1.count - 3)..<(part1.count + 7)]))
        #expect(try await store.listMultipartUploads(prefix: "calls/").contains(upload) == false)
    }

    static func multipartAbort(_ store: some ObjectStore) async throws {
        let upload = try await store.createMultipartUpload("calls/aborted.cvr")
        _ = try await store.uploadPart(upload, number: 1, bytes: bytes(1000, seed: 7))
        #expect(try await store.listMultipartUploads(prefix: "").contains(upload))
        try await store.abortMultipartUpload(upload)
        #expect(try await store.listMultipartUploads(prefix: "").contains(upload) == false)
        try await store.abortMultipartUpload(upload)  // twice: not an error
        let late = await error { () async throws(ObjectStoreError) in
            try await store.uploadPart(upload, number: 2, bytes: [1, 2, 3])
        }
        #expect(late?.code == .notFound)
        let complete = await error { () async throws(ObjectStoreError) in
            try await store.completeMultipartUpload(upload, parts: [UploadedPart(number: 1, etag: "x")])
        }
        #expect(complete?.code == .notFound)
        #expect(try await store.list(prefix: "calls/").isEmpty)
    }

    static func multipartBadParts(_ store: some ObjectStore) async throws {
        let upload = try await store.createMultipartUpload("calls/bad.cvr")
        let small = try await store.uploadPart(upload, number: 1, bytes: bytes(1000, seed: 8))
        let last = try await store.uploadPart(upload, number: 2, bytes: bytes(1000, seed: 9))
        let tooSmall = await error { () async throws(ObjectStoreError) in
            try await store.completeMultipartUpload(upload, parts: [small, last])
        }
        #expect(tooSmall?.code == .invalidArgument)
        #expect(tooSmall?.serverCode == "EntityTooSmall", "\(tooSmall?.description ?? "no error")")
        for number in [0, 10_001] {
            let error = await error { () async throws(ObjectStoreError) in
                try await store.uploadPart(upload, number: number, bytes: [1])
            }
            #expect(error?.code == .invalidArgument, "part \(number)")
        }
        let none = await error { () async throws(ObjectStoreError) in
            try await store.completeMultipartUpload(upload, parts: [])
        }
        #expect(none?.code == .invalidArgument)
        try await store.abortMultipartUpload(upload)
    }

    static func list(_ store: some ObjectStore) async throws {
        for key in ["a/1", "a/2", "a-x", "b/1", "a/sub/3"] { _ = try await store.put(key, bytes: Array(key.utf8)) }
        #expect(try await store.list(prefix: "a/").map(\.key) == ["a/1", "a/2", "a/sub/3"])
        #expect(try await store.list(prefix: "a").map(\.key) == ["a-x", "a/1", "a/2", "a/sub/3"])
        #expect(try await store.list(prefix: "").map(\.key) == ["a-x", "a/1", "a/2", "a/sub/3", "b/1"])
        #expect(try await store.list(prefix: "zzz").isEmpty)
        let entry = try #require(try await store.list(prefix: "b/").first)
        #expect(entry.size == 3)
        #expect(entry.etag == (try await store.head("b/1").etag))
    }

    static func delete(_ store: some ObjectStore) async throws {
        _ = try await store.put("doomed/1.cvr", bytes: bytes(100))
        _ = try await store.put("doomed/2.cvr", bytes: bytes(100))
        try await store.delete("doomed/1.cvr")
        let head = await error { () async throws(ObjectStoreError) in try await store.head("doomed/1.cvr") }
        #expect(head?.code == .notFound)
        #expect(try await store.list(prefix: "doomed/").map(\.key) == ["doomed/2.cvr"])
        try await store.delete("doomed/1.cvr")  // again: not an error
        try await store.delete("never/there.cvr")
        #expect(try await store.get("doomed/2.cvr").count == 100)
    }

    static func notFound(_ store: some ObjectStore) async throws {
        let get = await error { () async throws(ObjectStoreError) in try await store.get("missing/rec.cvr") }
        #expect(get?.code == .notFound)
        #expect(get?.message.contains("missing/rec.cvr") == true, "\(get?.message ?? "")")
        #expect(get?.message.contains(store.location) == true)
        let ranged = await error { () async throws(ObjectStoreError) in
            try await store.get("missing/rec.cvr", range: ByteRange(offset: 0, length: 1))
        }
        #expect(ranged?.code == .notFound)
        let head = await error { () async throws(ObjectStoreError) in try await store.head("missing/rec.cvr") }
        #expect(head?.code == .notFound)
        let upload = await error { () async throws(ObjectStoreError) in
            try await store.uploadPart(
                MultipartUpload(key: "missing/rec.cvr", id: "0123456789abcdef0123456789abcdef"),
                number: 1,
                bytes: [1]
            )
        }
        #expect(upload?.code == .notFound)
    }

    static func badKeys(_ store: some ObjectStore) async throws {
        let longKey = String(repeating: "k", count: 1025)
        for (key, words) in [
            ("", "empty"), ("/abs", "empty segment"), ("a//b", "empty segment"), ("a/", "empty segment"),
            ("../x", ". or .."), ("a/./b", ". or .."), ("a\u{0}b", "control"), ("a\nb", "control"), (longKey, "longer"),
        ] {
            for (operation, call) in [
                ("put", { () async throws(ObjectStoreError) in _ = try await store.put(key, bytes: [1]) }),
                ("get", { () async throws(ObjectStoreError) in _ = try await store.get(key) }),
                ("head", { () async throws(ObjectStoreError) in _ = try await store.head(key) }),
                ("delete", { () async throws(ObjectStoreError) in try await store.delete(key) }),
                ("multipart", { () async throws(ObjectStoreError) in _ = try await store.createMultipartUpload(key) }),
            ] as [(String, () async throws(ObjectStoreError) -> Void)] {
                let error = await error(call)
                #expect(error?.code == .invalidKey, "\(operation) of \(key.debugDescription.prefix(20))")
                #expect(error?.message.contains(words) == true, "\(error?.message ?? "no error")")
            }
        }
        #expect(try await store.list(prefix: "").isEmpty, "nothing was stored by a refused call")
    }
}
