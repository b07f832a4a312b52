/// What a tenant has decided about recording: consent, retention and storage.
///
/// Changes apply to recordings made after them; existing recordings keep the expiry they were given.
public struct TenantPolicy: Sendable, Codable, Equatable {
    /// The longest voice retention CallVault allows, in days (DESIGN.md, guarantee 6).
    public static let maximumVoiceDays = 90

    /// The legal basis: opt-in (default), opt-out or not-required.
    public var consentMode: ConsentMode
    /// Whether consent counts only after the AI/recording disclosure was played.
    public var requireDisclosure: Bool
    /// The DTMF key that means "I consent" (`0`–`9`, `*`, `#`, `A`–`D`), or nil for none.
    public var consentDigit: Character?
    /// The DTMF key that means "do not record me", or nil for none.
    public var optOutDigit: Character?
    /// Days voice is kept before its keys are destroyed: 1 to ``maximumVoiceDays``.
    public var voiceDays: Int
    /// Days transcripts are kept (at least 1).
    public var transcriptDays: Int
    /// The codec recordings are stored in.
    public var codec: StorageCodec
    /// The language its calls are transcribed in (`en`, `de`, ...), or `auto` to let the engine detect it.
    public var transcriptLanguage: String
    /// The CTranslate2 Whisper model directory its calls are transcribed with (an absolute path), or
    /// nil for the model of the transcription run. Other engines ignore it.
    public var transcriptModel: String?
    /// Who may send it SIP calls and which SIPREC participant is its own side.
    public var sip: TenantSIPSettings
    /// What is redacted from its calls' transcripts before they are sealed (none by default).
    public var redact: TenantRedaction
    /// Where the bot's side of a transcript comes from, and the words its engine should expect.
    public var transcription: TenantTranscription
    /// The TLS client certificates its platform must present beside its token (none by default).
    public var clientCertificates: TenantClientCertificates

    /// The longest model directory path accepted, in bytes.
    public static let maximumModelPathLength = 1024

    /// The defaults of `callvault tenant add`: opt-in, no disclosure requirement, no digits,
    /// voice 90 days, transcripts 365 days, native codec, no redaction.
    public init(
        consentMode: ConsentMode = .optIn,
        requireDisclosure: Bool = false,
        consentDigit: Character? = nil,
        optOutDigit: Character? = nil,
        voiceDays: Int = TenantPolicy.maximumVoiceDays,
        transcriptDays: Int = 365,
        codec: StorageCodec = .native,
        transcriptLanguage: String = "en",
        transcriptModel: String? = nil,
        sip: TenantSIPSettings = TenantSIPSettings(),
        redact: TenantRedaction = TenantRedaction(),
        transcription: TenantTranscription = TenantTranscription(),
        clientCertificates: TenantClientCertificates = TenantClientCertificates()
    ) {
        self.clientCertificates = clientCertificates
        self.transcription = transcription
        self.sip = sip
        self.redact = redact
        self.consentMode = consentMode
        self.requireDisclosure = requireDisclosure
        self.consentDigit = consentDigit
        self.optOutDigit = optOutDigit
        self.voiceDays = voiceDays
        self.transcriptDays = transcriptDays
        self.codec = codec
        self.transcriptLanguage = transcriptLanguage
        self.transcriptModel = transcriptModel
    }

    /// The keys a DTMF digit may be.
    public static let dtmfKeys: Set<Character> = Set("0123456789*#ABCD")

    /// Checks every limit, so a policy that would break a guarantee never reaches the catalog.
    public func validate() throws(CatalogError) {
        guard voiceDays <= Self.maximumVoiceDays else {
            throw CatalogError(
                .invalidPolicy,
                "voice retention of \(voiceDays) days is refused: the limit is \(Self.maximumVoiceDays) days"
            )
        }
        guard voiceDays >= 1 else {
            throw CatalogError(.invalidPolicy, "voice retention must be at least 1 day, got \(voiceDays)")
        }
        guard transcriptDays >= 1 else {
            throw CatalogError(.invalidPolicy, "transcript retention must be at least 1 day, got \(transcriptDays)")
        }
        for (label, digit) in [("consent", consentDigit), ("opt-out", optOutDigit)] {
            if let digit, !Self.dtmfKeys.contains(digit) {
                throw CatalogError(.invalidPolicy, "the \(label) digit must be one of 0-9, *, #, A-D")
            }
        }
        guard transcriptLanguage == "auto" || Self.isLanguageCode(transcriptLanguage) else {
            throw CatalogError(
                .invalidPolicy, "the transcript language must be a 2 or 3 letter code (en, de, yue) or auto")
        }
        if let transcriptModel { try Self.validateModelPath(transcriptModel) }
        try sip.validate()
        try transcription.validate()
        try clientCertificates.validate()
        if let consentDigit, consentDigit == optOutDigit {
            throw CatalogError(.invalidPolicy, "the consent digit and the opt-out digit must differ")
        }
    }

    /// Two or three lowercase ASCII letters: the codes Whisper knows (ISO 639-1, plus a few of 639-3).
    public static func isLanguageCode(_ text: String) -> Bool {
        (2...3).contains(text.utf8.count) && text.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }
    }

    /// An absolute path of at most ``maximumModelPathLength`` bytes without control characters: what
    /// the catalog stores and the worker hands to the Whisper sidecar (whether a model is there is
    /// checked by `callvault tenant add|set` and again when a job runs).
    static func validateModelPath(_ path: String) throws(CatalogError) {
        guard path.hasPrefix("/"), path.utf8.count >= 2 else {
            throw CatalogError(
                .invalidPolicy, "the transcript model must be an absolute directory path, got \(path.debugDescription)")
        }
        guard path.utf8.count <= maximumModelPathLength else {
            throw CatalogError(
                .invalidPolicy,
                "the transcript model path is \(path.utf8.count) bytes long: the limit is \(maximumModelPathLength)")
        }
        guard !path.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw CatalogError(.invalidPolicy, "the transcript model path must not contain control characters")
        }
    }

    enum CodingKeys: String, CodingKey {
        case consentMode, requireDisclosure, consentDigit, optOutDigit, voiceDays, transcriptDays, codec
        case transcriptLanguage, transcriptModel, sip, redact, transcription
        case clientCertificates
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        consentMode = try c.decode(ConsentMode.self, forKey: .consentMode)
        requireDisclosure = try c.decode(Bool.self, forKey: .requireDisclosure)
        consentDigit = try c.decodeIfPresent(String.self, forKey: .consentDigit).flatMap(\.first)
        optOutDigit = try c.decodeIfPresent(String.self, forKey: .optOutDigit).flatMap(\.first)
        voiceDays = try c.decode(Int.self, forKey: .voiceDays)
        transcriptDays = try c.decode(Int.self, forKey: .transcriptDays)
        codec = try c.decode(StorageCodec.self, forKey: .codec)
        transcriptLanguage = try c.decodeIfPresent(String.self, forKey: .transcriptLanguage) ?? "en"
        transcriptModel = try c.decodeIfPresent(String.self, forKey: .transcriptModel)
        sip = try c.decodeIfPresent(TenantSIPSettings.self, forKey: .sip) ?? TenantSIPSettings()
        redact = try c.decodeIfPresent(TenantRedaction.self, forKey: .redact) ?? TenantRedaction()
        transcription = try c.decodeIfPresent(TenantTranscription.self, forKey: .transcription) ?? TenantTranscription()
        clientCertificates =
            try c.decodeIfPresent(TenantClientCertificates.self, forKey: .clientCertificates) ?? TenantClientCertificates()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(consentMode, forKey: .consentMode)
        try c.encode(requireDisclosure, forKey: .requireDisclosure)
        try c.encode(consentDigit.map(String.init), forKey: .consentDigit)
        try c.encode(optOutDigit.map(String.init), forKey: .optOutDigit)
        try c.encode(voiceDays, forKey: .voiceDays)
        try c.encode(transcriptDays, forKey: .transcriptDays)
        try c.encode(codec, forKey: .codec)
        try c.encode(transcriptLanguage, forKey: .transcriptLanguage)
        try c.encode(transcriptModel, forKey: .transcriptModel)
        if !sip.isEmpty { try c.encode(sip, forKey: .sip) }
        try c.encode(redact, forKey: .redact)
        try c.encode(transcription, forKey: .transcription)
        try c.encode(clientCertificates, forKey: .clientCertificates)
    }
}
