public import CallVaultArchive
import CallVaultCrypto
public import Foundation

/// Where `scripts/install-whisper` put the Whisper engine: the venv's Python, the sidecar program and
/// a model directory, and the check that the bundled model is the one its sums promise.
public struct WhisperInstallation: Sendable, Equatable {
    /// The Python of the venv that has faster-whisper.
    public var python: String
    /// `whisper-sidecar.py`.
    public var sidecar: String
    /// A CTranslate2 Whisper model directory.
    public var model: String
    /// sha256 per file the model must match, or nil for a model the user brought (`--model DIR`).
    public var modelSums: [String: String]?

    public init(python: String, sidecar: String, model: String, modelSums: [String: String]?) {
        self.python = python
        self.sidecar = sidecar
        self.model = model
        self.modelSums = modelSums
    }

    /// The Whisper base model assembled by `scripts/install-whisper` from a third-party PyPI re-upload:
    /// because the uploader is not the model's author, every file must match these sums.
    public static let baseModelSums = [
        "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
    ]

    /// `$CALLVAULT_WHISPER_HOME`, else `${XDG_CACHE_HOME:-$HOME/.cache}/callvault/whisper` (as the script).
    public static func home(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let home = environment["CALLVAULT_WHISPER_HOME"], !home.isEmpty { return home }
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.cache"
        return cache + "/callvault/whisper"
    }

    /// The installation under `home`, with `model` instead of the bundled one if given. Throws
    /// `modelMissing` naming what is absent and the command that installs it.
    public static func locate(
        model: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(TranscriptionError) -> WhisperInstallation {
        let home = home(environment: environment)
        let found = WhisperInstallation(
            python: home + "/venv/bin/python",
            sidecar: environment["CALLVAULT_WHISPER_SIDECAR"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/whisper-sidecar.py",
            model: model ?? home + "/models/base",
            modelSums: model == nil ? baseModelSums : nil)
        let files = FileManager.default
        for (what, path) in [("Python", found.python), ("sidecar", found.sidecar), ("model", found.model + "/model.bin")]
        where !files.fileExists(atPath: path) {
            throw TranscriptionError(
                .modelMissing, "the Whisper engine is not installed: no \(what) at \(path) (run scripts/install-whisper)")
        }
        return found
    }

    /// This installation with another model directory, one a user brought (a tenant's own): its layout
    /// is checked (``checkModelDirectory(_:)``); it has no sums to match.
    public func using(model directory: String) throws(TranscriptionError) -> WhisperInstallation {
        try Self.checkModelDirectory(directory)
        var copy = self
        copy.model = directory
        copy.modelSums = nil
        return copy
    }

    /// The files of a CTranslate2 Whisper model directory that faster-whisper needs offline: the
    /// weights, the model's configuration (alignment heads for word times, suppressed tokens), and the
    /// tokenizer (without it faster-whisper would fetch one from a hub, which the sidecar forbids).
    public static let modelFiles = ["model.bin", "config.json", "tokenizer.json"]
    /// CTranslate2's vocabulary, in one of its two spellings: the model does not load without it.
    public static let vocabularyFiles = ["vocabulary.json", "vocabulary.txt"]

    /// Throws `modelMissing` unless `directory` looks like a CTranslate2 Whisper model: a directory
    /// holding ``modelFiles`` and one of ``vocabularyFiles`` (as `ct2-transformers-converter
    /// --copy_files tokenizer.json` and the faster-whisper models on Hugging Face have). Whether the
    /// weights load is only known when a sidecar loads them.
    public static func checkModelDirectory(_ directory: String) throws(TranscriptionError) {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TranscriptionError(
                .modelMissing, "the Whisper model directory \(directory) does not exist or is not a directory")
        }
        func readable(_ name: String) -> Bool { files.isReadableFile(atPath: directory + "/" + name) }
        let missing = modelFiles.filter { !readable($0) }
            + (vocabularyFiles.contains(where: readable) ? [] : [vocabularyFiles.joined(separator: " or ")])
        guard missing.isEmpty else {
            throw TranscriptionError(
                .modelMissing,
                "\(directory) is not a CTranslate2 Whisper model directory: no readable "
                    + "\(missing.joined(separator: ", ")); a faster-whisper model (such as "
                    + "Systran/faster-whisper-small) has them all, as has one converted with ct2-transformers-converter "
                    + "--model openai/whisper-small --output_dir DIR --copy_files tokenizer.json")
        }
    }

    /// Whether the Whisper engine is installed (without checking the model's sums).
    public static func isInstalled(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        (try? locate(environment: environment)) != nil
    }

    /// Checks every file of `modelSums`; throws `modelMissing` naming the first that is absent or differs.
    /// A tampered or half-downloaded model is refused before any audio reaches it.
    public func verifyModel() throws(TranscriptionError) {
        guard let modelSums else { return }
        for (name, expected) in modelSums.sorted(by: { $0.key < $1.key }) {
            let path = model + "/" + name
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
                throw TranscriptionError(.modelMissing, "the Whisper model file \(path) is missing or unreadable")
            }
            let actual = data.withUnsafeBytes { Hex.encode(Digest.sha256($0)) }
            guard actual == expected else {
                throw TranscriptionError(
                    .modelMissing,
                    "the Whisper model file \(path) has sha256 \(actual), expected \(expected): refusing a changed model "
                        + "(rerun scripts/install-whisper)")
            }
        }
    }
}
