import ArgumentParser
import CallVaultModel
import CallVaultTranscribe
import Foundation

/// The policy flags of `tenant add` and `tenant set`. Every flag is optional: `add` starts from the
/// defaults of CLI.md, `set` from the tenant's current policy, and only the flags given change it.
struct TenantPolicyOptions: ParsableArguments {
    @Option(help: "Days voice is kept before it is shredded (1-90; default 90).")
    var voiceDays: Int?

    @Option(help: "Days transcripts are kept (default 365).")
    var transcriptDays: Int?

    @Option(help: "Legal basis: opt-in (default), opt-out or not-required.")
    var consent: String?

    @Flag(inversion: .prefixedNo, help: "Count consent only after the AI/recording disclosure was played.")
    var requireDisclosure: Bool?

    @Option(help: "DTMF key meaning 'I consent' (0-9, *, #, A-D), or 'none'.")
    var consentDigit: String?

    @Option(help: "DTMF key meaning 'do not record me' (0-9, *, #, A-D), or 'none'.")
    var optoutDigit: String?

    @Option(help: "Storage codec: native (default), opus, pcm16, g711u or g711a.")
    var codec: String?

    @Option(help: "Language calls are transcribed in: a code such as en (default), de, es, or auto to detect it.")
    var transcriptLanguage: String?

    @Option(
        help: ArgumentHelp(
            "A CTranslate2 Whisper model directory this tenant's calls are transcribed with (whisper engine only; "
                + "other engines ignore it, and a run's --model overrides it), or 'default' for the run's model.",
            valueName: "DIR|default"))
    var transcriptModel: String?

    /// `base` with the given flags applied; a bad spelling is a usage error (exit 2).
    func apply(to base: TenantPolicy) throws(ExitCode) -> TenantPolicy {
        var policy = base
        if let voiceDays { policy.voiceDays = voiceDays }
        if let transcriptDays { policy.transcriptDays = transcriptDays }
        if let consent {
            guard let mode = ConsentMode(rawValue: consent) else {
                throw CatalogCommandSupport.usageError(
                    "unknown consent mode \(consent)",
                    hint: "use opt-in, opt-out or not-required"
                )
            }
            policy.consentMode = mode
        }
        if let requireDisclosure { policy.requireDisclosure = requireDisclosure }
        if let consentDigit { policy.consentDigit = try Self.digit(consentDigit, flag: "--consent-digit") }
        if let optoutDigit { policy.optOutDigit = try Self.digit(optoutDigit, flag: "--optout-digit") }
        if let codec {
            guard let storage = StorageCodec(rawValue: codec) else {
                throw CatalogCommandSupport.usageError(
                    "unknown codec \(codec)",
                    hint: "use native, opus, pcm16, g711u or g711a"
                )
            }
            policy.codec = storage
        }
        if let transcriptLanguage { policy.transcriptLanguage = transcriptLanguage.lowercased() }
        if let transcriptModel { policy.transcriptModel = try Self.modelDirectory(transcriptModel) }
        return policy
    }

    /// nil for `default`; else the directory made absolute (from the current directory), after checking
    /// it holds a CTranslate2 Whisper model, so a typo is refused now rather than failing jobs later.
    private static func modelDirectory(_ text: String) throws(ExitCode) -> String? {
        if text == "default" { return nil }
        guard !text.isEmpty else {
            throw CatalogCommandSupport.usageError(
                "--transcript-model needs a directory", hint: "give a model directory, or default for the run's model")
        }
        let absolute = text.hasPrefix("/") ? text : FileManager.default.currentDirectoryPath + "/" + text
        let directory = URL(fileURLWithPath: absolute).standardizedFileURL.path
        do { try WhisperInstallation.checkModelDirectory(directory) } catch {
            throw CatalogCommandSupport.usageError(
                error.message, hint: "or --transcript-model default for the run's model")
        }
        return directory
    }

    private static func digit(_ text: String, flag: String) throws(ExitCode) -> Character? {
        if text == "none" { return nil }
        guard text.count == 1, let key = text.uppercased().first, TenantPolicy.dtmfKeys.contains(key) else {
            throw CatalogCommandSupport.usageError(
                "\(flag) must be one DTMF key, got \(text)",
                hint: "use 0-9, *, #, A-D, or none"
            )
        }
        return key
    }
}
