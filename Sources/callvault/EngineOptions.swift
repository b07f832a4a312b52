import ArgumentParser
import CallVaultTranscribe
import Foundation

/// `--engine` and its settings, shared by `transcribe FILE` and `transcribe --pending`.
struct EngineOptions: ParsableArguments {
    enum Engine: String, ExpressibleByArgument, CaseIterable {
        case auto, whisper, pocketsphinx
    }

    @Option(help: "auto (whisper if installed, else pocketsphinx), whisper or pocketsphinx.")
    var engine: Engine = .auto
    @Option(help: ArgumentHelp("A CTranslate2 Whisper model directory instead of the installed base model.", valueName: "DIR"))
    var model: String?
    @Option(help: "Spoken language code (en, de, ...), or auto to detect it (whisper only).")
    var language: String = "en"
    @Option(help: "Beam width for whisper (1...20).")
    var beamSize: Int = 5
    @Flag(help: "Skip non-speech with whisper's voice activity filter before decoding.")
    var vad = false

    func validate() throws {
        guard (1...20).contains(beamSize) else { throw ValidationError("--beam-size must be 1...20, not \(beamSize)") }
        if model != nil && engine == .pocketsphinx { throw ValidationError("--model is a whisper option") }
    }

    var transcriptionOptions: TranscriptionOptions {
        TranscriptionOptions(language: language == "auto" ? nil : language, beamSize: beamSize, voiceActivityFilter: vad)
    }

    /// The engine to use and how to make one per worker; says on stderr which one was chosen.
    func factory() throws -> (name: String, make: TranscriptionEngineFactory) {
        let useWhisper: Bool
        switch engine {
        case .whisper: useWhisper = true
        case .pocketsphinx: useWhisper = false
        case .auto: useWhisper = model != nil || WhisperInstallation.isInstalled()
        }
        guard useWhisper else {
            note("engine: pocketsphinx (in-process, en-us)" + (engine == .auto ? "; whisper is not installed (scripts/install-whisper)" : ""))
            return ("pocketsphinx", { () throws(TranscriptionError) in try PocketSphinxEngine() })
        }
        let installation: WhisperInstallation
        do { installation = try WhisperInstallation.locate(model: model) } catch {
            throw CLIError.failure(error.message, hint: "run scripts/install-whisper, or pass --engine pocketsphinx")
        }
        note("engine: whisper (model \(installation.model))")
        return ("whisper", { () throws(TranscriptionError) in try WhisperEngine(configuration: .init(installation: installation)) })
    }

    private func note(_ line: String) {
        FileHandle.standardError.write(Data("callvault: \(line)\n".utf8))
    }
}
