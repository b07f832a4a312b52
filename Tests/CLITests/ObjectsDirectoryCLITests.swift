import CallVaultTestSupport
import Foundation
import Testing

/// `init --objects DIR` (issue 14, until object storage): sealed files live in a directory nodes can share,
/// outside the data directory; every command finds them there, and init never moves a directory's files.
@Suite("sealed files in an objects directory of their own", .timeLimit(.minutes(15)))
struct ObjectsDirectoryCLITests {
    @Test func recordingsGoToTheObjectsDirectoryAndEveryCommandFindsThemThere() throws {
        let root = try TemporaryDirectory("objects")
        defer { root.remove() }
        let data = root.appending("data")
        let objects = root.appending("shared")
        let cli = CatalogCLIProcess(executable: try #require(CatalogCLIProcess.executable()), dataDirectory: data)

        let initialised = try cli.run(["init", "--objects", objects, "--json"])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        #expect(try initialised.json()["objects"] as? String == objects)
        #expect(try initialised.json()["recordings"] as? String == objects + "/recordings")
        #expect(try FileManager.default.attributesOfItem(atPath: objects)[.posixPermissions] as? Int == 0o700)
        #expect(try FileManager.default.attributesOfItem(atPath: data + "/objects.json")[.posixPermissions] as? Int == 0o600)
        #expect(try cli.run(["init"]).status == 0, "init again without --objects keeps them")

        let tenantID = try #require(try cli.run(["tenant", "add", "acme", "--json"]).json()["id"] as? String)
        let recorded = try cli.run(["_record-sample", "--tenant", tenantID, "--seconds", "1", "--caller", "+15550100123"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let first = try #require(recorded.stdout.split(separator: "\n").first)
        let opened = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        let recordingID = try #require(opened["recordingId"] as? String)
        func sealed(under folder: String) -> [String] {
            (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".cvr") }
        }
        #expect(sealed(under: objects + "/recordings").count == 1)
        #expect(sealed(under: data).isEmpty, "nothing sealed in the data directory")
        #expect(try cli.run(["verify", recordingID]).status == 0)
        #expect(try cli.run(["verify", "--all"]).status == 0)
        // Pointing the directory elsewhere, or back at itself, would hide its files: refused, nothing changed.
        let elsewhere = try cli.run(["init", "--objects", root.appending("other")])
        #expect(elsewhere.status == 1 && elsewhere.stderr.contains("cannot point it at"), "\(elsewhere.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root.appending("other")))
        #expect(try cli.run(["init", "--objects", "relative/dir"]).status == 2, "a relative path is a usage error")
        #expect(try cli.run(["verify", recordingID]).status == 0)

        // Erasure finds the sealed file there too, and deletes it.
        let erased = try cli.run(["subject", "erase", "--tenant", tenantID, "--phone", "+15550100123"])
        #expect(erased.status == 0, "\(erased.stderr)")
        #expect(sealed(under: objects + "/recordings").isEmpty, "the erased recording's file is gone")
    }

    @Test func aDirectoryWithSealedFilesOfItsOwnIsNotMovedByInit() throws {
        let root = try TemporaryDirectory("objects-refused")
        defer { root.remove() }
        let cli = CatalogCLIProcess(executable: try #require(CatalogCLIProcess.executable()), dataDirectory: root.appending("data"))
        #expect(try cli.run(["init"]).status == 0)
        let tenantID = try #require(try cli.run(["tenant", "add", "acme", "--json"]).json()["id"] as? String)
        #expect(try cli.run(["_record-sample", "--tenant", tenantID, "--seconds", "1"]).status == 0)
        let moved = try cli.run(["init", "--objects", root.appending("shared")])
        #expect(moved.status == 1 && moved.stderr.contains("has sealed files"), "\(moved.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root.appending("data/objects.json")))
    }
}
