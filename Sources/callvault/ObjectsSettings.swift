import CallVaultStore
import Foundation

/// Where a data directory's sealed files (`recordings/`, `transcripts/`) live when not in the directory
/// itself: `DIR/objects.json`, written by `callvault init --objects PATH` (mode 0600).
///
/// Several nodes (servers, workers, the sweeper) each have a data directory of their own and share one
/// catalog (PostgreSQL) and one objects directory (an NFS mount, say): a call recorded by one node is
/// then transcribed, exported or shredded by another. The catalog keeps every file's path relative to
/// the objects directory, so each node may mount it at its own path. (Object storage over the S3 API is
/// the step after: issue 15.)
struct ObjectsSettings: Codable, Equatable, Sendable {
    static let fileName = "objects.json"

    var version = 1
    /// The objects directory, an absolute path.
    var directory: String

    static func path(in dataDirectory: String) -> String { dataDirectory + "/" + fileName }

    /// The directory's settings, or nil when it has no `objects.json`.
    static func read(dataDirectory: String) throws -> ObjectsSettings? {
        let path = path(in: dataDirectory)
        guard let data = try PrivateFile.readSettings(path, writtenBy: "callvault init --objects") else { return nil }
        guard let settings = try? JSONDecoder().decode(ObjectsSettings.self, from: data), settings.directory.hasPrefix("/")
        else {
            throw CLIError.failure("\(path) is not an objects file CallVault can read", hint: "restore it from your configuration")
        }
        guard settings.version == 1 else {
            throw CLIError.failure("\(path) has version \(settings.version); this callvault reads version 1")
        }
        return settings
    }

    /// Writes the file with mode 0600, atomically.
    func write(dataDirectory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try PrivateFile.writeAtomically(
            Array(try encoder.encode(self)) + [0x0A], to: Self.path(in: dataDirectory), in: dataDirectory)
    }
}
