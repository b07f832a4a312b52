import CallVaultArchive
import CallVaultCrypto
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

@testable import callvault

#if canImport(Glibc)
    import Glibc
#endif

/// `callvault verify ID...|--all`: recordings looked up in the catalog, their part files found beside
/// the catalog path, sealed for real with `SealedFileWriter` under key-store data keys.
@Suite(.timeLimit(.minutes(15))) struct VerifyByIDTests {
    private final class Fixture {
        let temp: String
        let directory: DataDirectory
        let catalog: Catalog
        let store: KeyStore
        let tenantID: String
        let callID: String
        let expires = try! CalendarDay("2026-12-01")

        init() throws {
            temp = try TemporaryDirectory.make("verify-id-test")
            directory = DataDirectory(path: temp + "/data")
            _ = try InitCommand.initialize(directory, logger: Logger(label: "test"))
            store = try KeyStore(dataDirectory: directory, logger: Logger(label: "test"))
            catalog = try Catalog(path: directory.catalogPath)
            tenantID = try catalog.addTenant(name: "acme").tenant.id
            try store.createTenant(tenantID)
            callID = try catalog.registerCall(tenantID: tenantID, externalID: "CA-verify").id
        }

        deinit { try? FileManager.default.removeItem(atPath: temp) }

        /// A catalog recording sealed in `parts.count` part files; `parts[k]` segments of 160 bytes in
        /// part k, and the `last` segment at the end of the final part if `finish`.
        func record(parts: [Int], finish: Bool) throws -> (id: String, firstPart: String) {
            let day = try CalendarDay("2026-11-22")
            try directory.makeRecordingDirectory(tenantID: tenantID, day: day)
            let id = UUID().uuidString.lowercased()
            let relative = RecordingFiles.relativePath(tenantID: tenantID, day: day, recordingID: id)
            _ = try catalog.createRecording(
                id: id, callID: callID, track: .caller, codec: .pcm16, sampleRate: 8000, path: relative)
            let key = try store.newDataKey(tenantID: tenantID, ownerID: id, kind: .voice, expiresOn: expires)
            let firstPart = RecordingFiles.resolve(relative, in: directory)
            let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 160, alignment: 1)
            defer { payload.deallocate() }
            payload.initializeMemory(as: UInt8.self, repeating: 0x33)
            var next: UInt32 = 0
            for (part, segments) in parts.enumerated() {
                let metadata = SealedFileMetadata(
                    kind: .voice, tenantID: tenantID, recordingID: id, keyID: key.keyID, codec: .pcm16,
                    sampleRate: 8000, createdAtMs: 1_795_305_600_000, partNumber: UInt32(part),
                    firstSegmentIndex: next)
                let writer = try SealedFileWriter(
                    path: RecordingFiles.partPath(firstPart: firstPart, part: part), dataKey: key.key,
                    metadata: metadata)
                for _ in 0..<segments { try writer.append(UnsafeRawBufferPointer(payload), last: false) }
                if finish && part == parts.count - 1 { try writer.finish() }
                try writer.close()
                next = UInt32(writer.nextSegmentIndex)
            }
            return (id, firstPart)
        }

        func verify(_ ids: [String]?) async throws -> [VerifyResult] {
            try await VerifyCommand.verify(recordingIDs: ids, catalog: catalog, keyStore: store, directory: directory)
        }
    }

    @Test func recordingsAreFoundByIDIncludingLaterParts() async throws {
        let f = try Fixture()
        let single = try f.record(parts: [4], finish: true)
        let continued = try f.record(parts: [3, 2], finish: true)
        let results = try await f.verify([single.id, continued.id])
        #expect(results.map(\.status) == [.ok, .ok])
        #expect(results.map(\.recordingID) == [single.id, continued.id])
        #expect(results[0].segmentCount == 5)
        // Both parts were read as one recording: 3 + 2 segments and the `last` one.
        #expect(results[1].paths == [continued.firstPart, RecordingFiles.partPath(firstPart: continued.firstPart, part: 1)])
        #expect(results[1].segmentCount == 6)
        #expect(VerifyReport(recordings: results).allFine)
    }

    @Test func everyStatusFromTheCatalog() async throws {
        let f = try Fixture()
        let ok = try f.record(parts: [2], finish: true)
        let cut = try f.record(parts: [2], finish: false)
        let flipped = try f.record(parts: [2], finish: true)
        var bytes = try #require(FileManager.default.contents(atPath: flipped.firstPart))
        bytes[bytes.count - 30] ^= 0x80
        try bytes.write(to: URL(fileURLWithPath: flipped.firstPart))
        let gone = try f.record(parts: [2], finish: true)
        #expect(unlink(gone.firstPart) == 0)
        let erased = try f.record(parts: [2], finish: true)
        #expect(try f.store.destroyDataKey(ownerID: erased.id, tenantID: f.tenantID))
        // A part removed from the middle of a continued recording is missing, not a crash's truncation.
        let holed = try f.record(parts: [1, 1, 1], finish: true)
        #expect(unlink(RecordingFiles.partPath(firstPart: holed.firstPart, part: 1)) == 0)

        let ids = [ok.id, cut.id, flipped.id, gone.id, erased.id, holed.id, "no-such-recording"]
        let results = try await f.verify(ids)
        #expect(results.map(\.status) == [.ok, .truncated, .tampered, .missing, .shredded, .missing, .missing])
        #expect(results[2].detail?.contains("segment") == true)
        #expect(results[5].detail?.contains("part 2 exists") == true)
        #expect(results[6].recordingID == "no-such-recording")
        #expect(!VerifyReport(recordings: results).allFine)

        // --all: every catalog recording (the unknown id is not one), oldest first.
        let all = try await f.verify(nil)
        #expect(Set(all.compactMap(\.recordingID)) == Set(ids.dropLast()))
        #expect(all.count == 6)
    }

    @Test func cliTakesIDsPathsAndAllWithJSONAndExitStatus() throws {
        let executable = try #require(
            CatalogCLIProcess.executable(), "the callvault executable was not found beside the tests; build it first")
        let f = try Fixture()
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: f.directory.path)
        let good = try f.record(parts: [2, 1], finish: true)
        let erased = try f.record(parts: [1], finish: true)
        #expect(try f.store.destroyDataKey(ownerID: erased.id, tenantID: f.tenantID))

        let byID = try cli.run(["verify", good.id, erased.id, "--json"])
        #expect(byID.status == 0, "\(byID.stderr)")
        let recordings = try #require(try byID.json()["recordings"] as? [[String: Any]])
        #expect(recordings.compactMap { $0["status"] as? String } == ["ok", "shredded"])
        #expect(recordings.first?["recordingId"] as? String == good.id)

        // Paths still work, alone and mixed with ids.
        let partOne = RecordingFiles.partPath(firstPart: good.firstPart, part: 1)
        let mixed = try cli.run(["verify", partOne, good.firstPart, good.id])
        #expect(mixed.status == 0, "\(mixed.stderr)")
        #expect(mixed.stdout.split(separator: "\n").count == 2)
        #expect(mixed.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("ok") })
        // Part 0 alone, by path, lacks the `last` segment that part 1 holds.
        #expect(try cli.run(["verify", good.firstPart]).status == 1)

        let cut = try f.record(parts: [1], finish: false)
        let all = try cli.run(["verify", "--all", "--json"])
        #expect(all.status == 1)
        let statuses = try #require(try all.json()["recordings"] as? [[String: Any]])
        let byRecording = Dictionary(
            uniqueKeysWithValues: statuses.map { ($0["recordingId"] as? String ?? "", $0["status"] as? String ?? "") })
        #expect(byRecording == [good.id: "ok", erased.id: "shredded", cut.id: "truncated"])
        #expect(all.stderr.isEmpty)

        let usage = try cli.run(["verify"])
        #expect(usage.status == 2)
        #expect(usage.stderr.hasPrefix("callvault: error: "))
    }
}
