import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

@testable import callvault

#if canImport(Glibc)
    import Glibc
#endif

/// `callvault verify` end to end on real files: real key store, real sealed files, real OpenSSL.
@Suite struct VerifyCommandTests {
    let expires = try! CalendarDay("2026-12-01")

    private final class Fixture {
        let temp: String
        let directory: DataDirectory
        let store: KeyStore

        init() throws {
            temp = try TemporaryDirectory.make("verify-test")
            directory = DataDirectory(path: temp + "/data")
            _ = try InitCommand.initialize(directory, logger: Logger(label: "test"))
            store = try KeyStore(dataDirectory: directory, logger: Logger(label: "test"))
            try store.createTenant("acme")
        }

        deinit { try? FileManager.default.removeItem(atPath: temp) }

        /// Seals `segments` segments of 160 bytes for a new recording; `finish` writes the `last` segment.
        func seal(_ recordingID: String, segments: Int, finish: Bool, expires: CalendarDay) throws -> String {
            let key = try store.newDataKey(tenantID: "acme", ownerID: recordingID, kind: .voice, expiresOn: expires)
            let folder = try directory.makeRecordingDirectory(tenantID: "acme", day: try CalendarDay("2026-11-22"))
            let path = "\(folder)/\(recordingID).cvr"
            let metadata = SealedFileMetadata(
                kind: .voice,
                tenantID: "acme",
                recordingID: recordingID,
                keyID: key.keyID,
                codec: .pcm16,
                sampleRate: 8000,
                createdAtMs: 1_795_305_600_000
            )
            let writer = try SealedFileWriter(path: path, dataKey: key.key, metadata: metadata)
            let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 160, alignment: 1)
            defer { payload.deallocate() }
            payload.initializeMemory(as: UInt8.self, repeating: 0x55)
            for _ in 0..<segments {
                try writer.append(UnsafeRawBufferPointer(payload), last: false)
            }
            if finish { try writer.finish() }
            try writer.close()
            return path
        }
    }

    @Test func completeRecordingIsOK() throws {
        let f = try Fixture()
        let path = try f.seal("rec-ok", segments: 5, finish: true, expires: expires)
        let results = VerifyCommand.verify(paths: [path], keyStore: f.store)
        #expect(results.count == 1)
        #expect(results.first?.status == .ok)
        #expect(results.first?.recordingID == "rec-ok")
        #expect(results.first?.segmentCount == 6)
        #expect(VerifyReport(recordings: results).allFine)
    }

    @Test func flippedByteIsTamperedAndCutTailIsTruncated() throws {
        let f = try Fixture()
        let tampered = try f.seal("rec-flip", segments: 5, finish: true, expires: expires)
        var bytes = try #require(FileManager.default.contents(atPath: tampered))
        bytes[bytes.count - 40] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: tampered))
        let unfinished = try f.seal("rec-cut", segments: 3, finish: false, expires: expires)

        let results = VerifyCommand.verify(paths: [tampered, unfinished], keyStore: f.store)
        #expect(results.map(\.status) == [.tampered, .truncated])
        #expect(results.first?.detail != nil)
        #expect(!VerifyReport(recordings: results).allFine)
    }

    @Test func shreddedAndMissingAndForeign() throws {
        let f = try Fixture()
        let shredded = try f.seal("rec-old", segments: 2, finish: true, expires: expires)
        try f.store.destroyDayKeys(expiringBefore: expires.adding(days: 1))
        let missing = f.temp + "/nope.cvr"
        let notSealed = f.temp + "/plain.cvr"
        #expect(FileManager.default.createFile(atPath: notSealed, contents: Data("hello, not sealed".utf8)))

        let results = VerifyCommand.verify(paths: [shredded, missing, notSealed], keyStore: f.store)
        let byPath = Dictionary(uniqueKeysWithValues: results.map { ($0.paths[0], $0.status) })
        #expect(byPath[shredded] == .shredded)
        #expect(byPath[missing] == .missing)
        #expect(byPath[notSealed] == .tampered)
        #expect(!VerifyReport(recordings: results).allFine)
        #expect(VerifyReport(recordings: results.filter { $0.status == .shredded }).allFine)
    }

    @Test func fileFromAnotherKeyStoreIsTampered() throws {
        let f = try Fixture()
        let other = try Fixture()
        let path = try other.seal("rec-elsewhere", segments: 2, finish: true, expires: expires)
        // Same tenant id, same recording id known nowhere in f's key store: it cannot be vouched for.
        let results = VerifyCommand.verify(paths: [path], keyStore: f.store)
        #expect(results.first?.status == .tampered)
        // With a key of its own for that id, the key commitment still refuses the foreign file.
        _ = try f.store.newDataKey(tenantID: "acme", ownerID: "rec-elsewhere", kind: .voice, expiresOn: expires)
        #expect(VerifyCommand.verify(paths: [path], keyStore: f.store).first?.status == .tampered)
    }

    @Test func jsonUsesTheDocumentedNames() throws {
        let report = VerifyReport(recordings: [
            VerifyResult(paths: ["/a.cvr"], status: .ok, tenantID: "acme", recordingID: "r1", segmentCount: 3)
        ])
        let json = try #require(String(data: try JSONEncoder().encode(report), encoding: .utf8))
        #expect(json.contains("\"status\":\"ok\""))
        #expect(json.contains("\"recordingId\":\"r1\""))
        #expect(json.contains("\"allFine\":true"))
    }
}
