import ArgumentParser
import CallVaultArchive
import CallVaultTranscribe
import Foundation

/// `--engine` and its settings, shared by `transcribe FILE` and `transcribe --pending`.
struct EngineOptions: ParsableArguments {
    enum Engine: String, ExpressibleByArgument, CaseIterable {
        case auto, whisper, pocketsphinx, http, command
    }

    @Option(help: "auto (whisper if installed, else pocketsphinx), whisper, pocketsphinx, http or command.")
    var engine: Engine = .auto
    @Option(help: ArgumentHelp("http: the server's base URL (it serves /v1/audio/transcriptions).", valueName: "URL"))
    var endpoint: String?
    @Option(help: "http: the model name sent with each request.")
    var httpModel: String = "whisper-1"
    @Option(help: ArgumentHelp("http: the environment variable holding the API key (never pass it as an argument).", valueName: "VAR"))
    var apiKeyEnv: String = "CALLVAULT_HTTP_API_KEY"
    @Option(help: ArgumentHelp("command: the program and its arguments; {input} becomes the WAV's path.", valueName: "'PROG {input}'"))
    var command: String?
    @Option(help: "http and command: seconds one request or run may take.")
    var engineTimeout: Double?
    @Option(
        help: ArgumentHelp(
            "A CTranslate2 Whisper model directory instead of the installed base model. Default: the tenant's "
                + "(tenant set --transcript-model) else the base model (--pending); given, it is used for every "
                + "tenant.",
            valueName: "DIR"))
    var model: String?
    @Option(help: "Spoken language code (en, de, ...), or auto to detect it (whisper). Default: the tenant's (--pending), en (files).")
    var language: String?
    @Option(help: "Beam width for whisper (1...20).")
    var beamSize: Int = 5
    @Flag(help: "Skip non-speech with whisper's voice activity filter before decoding.")
    var vad = false

    func validate() throws {
        guard (1...20).contains(beamSize) else { throw ValidationError("--beam-size must be 1...20, not \(beamSize)") }
        if model != nil && ![.auto, .whisper].contains(engine) { throw ValidationError("--model is a whisper option") }
        if engine == .http {
            guard let endpoint, let url = URL(string: endpoint), ["http", "https"].contains(url.scheme ?? "") else {
                throw ValidationError("--engine http needs --endpoint http(s)://HOST[:PORT]")
            }
        }
        if engine == .command && (command ?? "").isEmpty {
            throw ValidationError("--engine command needs --command 'PROG {input}'")
        }
        if let engineTimeout, engineTimeout <= 0 { throw ValidationError("--engine-timeout must be positive") }
    }

    var transcriptionOptions: TranscriptionOptions {
        let language = self.language ?? "en"
        return TranscriptionOptions(language: language == "auto" ? nil : language, beamSize: beamSize, voiceActivityFilter: vad)
    }

    /// The engine to use and how to make one per worker; says on stderr which one was chosen.
    ///
    /// `makeForModel` makes a worker's engine for a tenant's own model: Whisper only, and only when the
    /// run does not fix the model with `--model` (as `--language` overrides the tenant's language).
    func factory() throws
        -> (name: String, make: TranscriptionEngineFactory, makeForModel: TranscriptionModelEngineFactory?)
    {
        let useWhisper: Bool
        switch engine {
        case .whisper: useWhisper = true
        case .pocketsphinx: useWhisper = false
        case .auto: useWhisper = model != nil || WhisperInstallation.isInstalled()
        case .http:
            let key = ProcessInfo.processInfo.environment[apiKeyEnv].flatMap { $0.isEmpty ? nil : $0 }
            let configuration = HTTPTranscriptionEngine.Configuration(
                endpoint: URL(string: endpoint ?? "")!, model: httpModel, apiKey: key, timeout: engineTimeout ?? 120)
            note("engine: http (\(configuration.transcriptionsURL.absoluteString), model \(httpModel)\(key == nil ? "" : ", API key from $\(apiKeyEnv)"))")
            let make: TranscriptionEngineFactory = { () throws(TranscriptionError) in
                HTTPTranscriptionEngine(configuration: configuration)
            }
            return ("http", make, nil)
        case .command:
            let configuration: CommandTranscriptionEngine.Configuration
            do { configuration = try .init(commandLine: command ?? "", timeout: engineTimeout ?? 300) } catch {
                throw CLIError(what: error.message, hint: "quote the command: --command 'PROG --flag {input}'", exitCode: 2)
            }
            note("engine: command (\(configuration.arguments.first ?? ""))")
            let make: TranscriptionEngineFactory = { () throws(TranscriptionError) in
                try CommandTranscriptionEngine(configuration: configuration)
            }
            return ("command", make, nil)
        }
        guard useWhisper else {
            note("engine: pocketsphinx (in-process, en-us)" + (engine == .auto ? "; whisper is not installed (scripts/install-whisper)" : ""))
            return ("pocketsphinx", { () throws(TranscriptionError) in try PocketSphinxEngine() }, nil)
        }
        let installation: WhisperInstallation
        do { installation = try WhisperInstallation.locate(model: model) } catch {
            throw CLIError.failure(error.message, hint: "run scripts/install-whisper, or pass --engine pocketsphinx")
        }
        note(
            "engine: whisper (model \(installation.model)"
                + (model == nil ? "; --pending: a tenant's own where it has one)" : " for every tenant)"))
        let make: TranscriptionEngineFactory = { () throws(TranscriptionError) in
            try WhisperEngine(configuration: .init(installation: installation))
        }
        guard model == nil else { return ("whisper", make, nil) }
        return (
            "whisper", make,
            { (directory: String) throws(TranscriptionError) in
                try WhisperEngine(configuration: .init(installation: installation.using(model: directory)))
            }
        )
    }

    private func note(_ line: String) {
        FileHandle.standardError.write(Data("callvault: \(line)\n".utf8))
    }
}
