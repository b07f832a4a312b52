import ArgumentParser
import CallVaultIngest
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

    @Option(
        help: ArgumentHelp(
            "Address blocks its SBCs and PBXs may send SIP from (INVITE sip:TENANT@...), comma-separated, or 'none' "
                + "(the default: no SIP call reaches the tenant).",
            valueName: "CIDR[,CIDR]|none"))
    var sipAllow: String?

    @Option(
        help: ArgumentHelp(
            "The tenant's own SIP addresses or domains: the SIPREC participant matching none of them is the customer. "
                + "'none' (the default): the first stream is the customer.",
            valueName: "ADDRESS[,ADDRESS]|none"))
    var sipTenantAddress: String?

    @Option(
        help: ArgumentHelp(
            "What is replaced by placeholders in its calls' transcripts before they are sealed: pci (card numbers, "
                + "security codes, expiry dates), bank (IBANs, account numbers), contact (phone numbers, e-mail "
                + "addresses), ids (national IDs, dates of birth), comma-separated, or 'none' (the default).",
            valueName: "pci,bank,contact,ids|none"))
    var redact: String?

    @Option(
        help: ArgumentHelp(
            "Where the bot's side of a transcript comes from when its platform sends the bot's utterances: text "
                + "(the default: its text, and only the speech it does not cover goes to the engine), asr (speech "
                + "recognition, the utterances ignored), or both (the text, checked against recognition of the whole "
                + "bot track: turns whose audio does not say their text are flagged).",
            valueName: "text|asr|both"))
    var botTranscript: String?

    @Option(
        help: ArgumentHelp(
            "A file of words and phrases its calls' engine should expect (product names, streets, jargon), one per "
                + "line, # comments; at most 100 phrases. 'none' clears it. Whisper, http and command engines use it.",
            valueName: "FILE|none"))
    var vocabulary: String?

    @Option(
        help: ArgumentHelp(
            "PEM files of the client certificates its platform must present over TLS (serve --tls-cert) beside its "
                + "token, comma-separated; their SHA-256 fingerprints are pinned (at most 10). 'none' (the default) "
                + "clears them: the token alone is enough.",
            valueName: "FILE[,FILE]|none"))
    var clientCert: String?

    @Option(
        name: .customLong("client-cert-sha256"),
        help: ArgumentHelp(
            "The same pins as SHA-256 fingerprints of the certificates' DER (64 hex digits, colons allowed, as "
                + "openssl x509 -noout -fingerprint -sha256 prints them), comma-separated; added to --client-cert's.",
            valueName: "HEX[,HEX]|none"))
    var clientCertSHA256: String?

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
        if let sipAllow {
            var blocks: [AddressBlock] = []
            for text in Self.list(sipAllow) {
                guard let block = AddressBlock(text) else {
                    throw CatalogCommandSupport.usageError(
                        "--sip-allow: \(text.prefix(64)) is not an address block", hint: "use 192.0.2.0/24, 2001:db8::/32, 192.0.2.7, or none")
                }
                blocks.append(block)
            }
            policy.sip.allow = blocks
        }
        if let sipTenantAddress { policy.sip.tenantAddresses = Self.list(sipTenantAddress) }
        if let redact { policy.redact = try Self.redaction(redact) }
        if let botTranscript {
            guard let source = TenantTranscription.BotTranscript(rawValue: botTranscript) else {
                throw CatalogCommandSupport.usageError(
                    "unknown --bot-transcript \(botTranscript.prefix(32))", hint: "use text, asr or both")
            }
            policy.transcription.botTranscript = source
        }
        if let vocabulary { policy.transcription.vocabulary = try Self.vocabulary(vocabulary) }
        if clientCert != nil || clientCertSHA256 != nil {
            policy.clientCertificates = try Self.clientCertificates(files: clientCert, fingerprints: clientCertSHA256)
        }
        return policy
    }

    /// The pins of `--client-cert` and `--client-cert-sha256` together (both replace the tenant's list; `none`
    /// is no pins); an unreadable file, a malformed fingerprint or more than 10 is a usage error naming it.
    private static func clientCertificates(files: String?, fingerprints: String?) throws(ExitCode)
        -> TenantClientCertificates
    {
        var pins: [String] = []
        for path in list(files ?? "none") {
            do { pins.append(try ClientCertificateFile.fingerprint(path: path)) } catch {
                throw CatalogCommandSupport.usageError(
                    error.description, hint: "give the platform's client certificate as a PEM file, or none")
            }
        }
        for text in list(fingerprints ?? "none") {
            do { pins.append(try TenantClientCertificates.fingerprint(text)) } catch {
                throw CatalogCommandSupport.usageError("--client-cert-sha256: \(error.message)", hint: "or none")
            }
        }
        var unique: [String] = []
        for pin in pins where !unique.contains(pin) { unique.append(pin) }
        let certificates = TenantClientCertificates(fingerprints: unique)
        do { try certificates.validate() } catch {
            throw CatalogCommandSupport.usageError(
                "--client-cert: \(error.message)", hint: "pin the certificates in use now")
        }
        return certificates
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

    /// The phrases of a `--vocabulary` file (`none`: no vocabulary); an unreadable file or a broken limit is a
    /// usage error naming the file or the line.
    private static func vocabulary(_ path: String) throws(ExitCode) -> [String] {
        if path == "none" { return [] }
        do { return try TenantTranscription.vocabulary(contentsOfFile: path) } catch {
            throw CatalogCommandSupport.usageError(
                "--vocabulary \(path): \(error.message)", hint: "one word or phrase per line (at most 100), or none")
        }
    }

    /// A comma-separated flag value: its trimmed, non-empty items; `none` is the empty list.
    private static func list(_ text: String) -> [String] {
        if text == "none" { return [] }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A `--redact` value; a bad name is a usage error that names it.
    static func redaction(_ text: String, flag: String = "--redact") throws(ExitCode) -> TenantRedaction {
        do { return try TenantRedaction(listText: text) } catch {
            throw CatalogCommandSupport.usageError("\(flag): \(error.message)", hint: "e.g. \(flag) pci,contact")
        }
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
