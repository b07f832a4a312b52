public import Foundation

/// Files of this repository the tests read (found from this file's path), and the built products.
public enum Repository {
    /// The package's root folder (this file is `Tests/CallVaultTestSupport/Repository.swift`).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// `samples/`: the recorded calls and prompts the audio, transcription and CLI tests use.
    public static let samples = root + "/samples"

    /// The path of `name` in `samples/`.
    public static func sample(_ name: String) -> String { samples + "/" + name }

    /// The built `callvault` executable: SwiftPM builds it into the folder of the test bundle.
    public static let callvault: URL? = {
        var folders = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        if let bundle = Bundle.main.executableURL?.deletingLastPathComponent() { folders.append(bundle) }
        folders.append(URL(fileURLWithPath: root + "/.build/debug"))
        return folders.map { $0.appendingPathComponent("callvault") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()
}
