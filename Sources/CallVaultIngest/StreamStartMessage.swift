public import CallVaultAudio

/// The first text message on the binary WebSocket endpoint `/v1/stream`: who is calling and how
/// the binary frames that follow are encoded.
///
/// ```json
/// {"callId":"c-42","tenantToken":"…","encoding":"L16","sampleRate":16000,"track":"caller","from":"+15551234567"}
/// ```
/// Sent once per stream, so decoded with Foundation. Every error names the field at fault and
/// never echoes its value (it may be a token or a phone number).
public struct StreamStartMessage: Sendable, Equatable {
    /// The wire encodings this endpoint accepts.
    public enum Encoding: String, Sendable, CaseIterable {
        /// Big-endian signed 16-bit PCM (RFC 3551 L16).
        case l16 = "L16"
        /// G.711 μ-law.
        case pcmu = "PCMU"
    }

    /// Which side of the call the stream carries.
    public enum Track: String, Sendable, CaseIterable {
        case caller, bot
    }

    /// The call this stream belongs to (1–128 characters, no control characters).
    public var callId: String
    /// The tenant's API token (checked by the server; never logged).
    public var tenantToken: String
    public var encoding: Encoding
    /// 8000 or 16000.
    public var sampleRate: SampleRate
    public var track: Track
    /// The caller's number, if the bot knows it (at most 64 characters; never logged).
    public var from: String?

    public init(
        callId: String,
        tenantToken: String,
        encoding: Encoding,
        sampleRate: SampleRate,
        track: Track,
        from: String? = nil
    ) {
        self.callId = callId
        self.tenantToken = tenantToken
        self.encoding = encoding
        self.sampleRate = sampleRate
        self.track = track
        self.from = from
    }

    /// How the binary frames are encoded, for a ``FrameAssembler``.
    public var audioEncoding: IngestAudioEncoding {
        switch encoding {
        case .l16: return .l16BigEndian
        case .pcmu: return .muLaw
        }
    }

    /// Parses and validates the first text message.
    ///
    /// - Throws: `malformedJSON`/`wrongType`/`missingField` naming the field, or `invalidValue`
    ///   naming the field whose value is outside what is allowed.
    public static func parse(_ text: UnsafeRawBufferPointer) throws(IngestError) -> StreamStartMessage {
        let wire = try IngestError.decode(Wire.self, from: text, what: "stream start message")
        try checkText(wire.callId, field: "callId", maxLength: 128)
        try checkText(wire.tenantToken, field: "tenantToken", maxLength: 512)
        guard let encoding = Encoding(rawValue: wire.encoding) else {
            throw IngestError(.invalidValue, "stream start message: field encoding must be L16 or PCMU")
        }
        guard wire.sampleRate == 8000 || wire.sampleRate == 16000,
            let rate = SampleRate(rawValue: wire.sampleRate)
        else {
            throw IngestError(
                .invalidValue,
                "stream start message: field sampleRate must be 8000 or 16000, got \(wire.sampleRate)"
            )
        }
        guard let track = Track(rawValue: wire.track) else {
            throw IngestError(.invalidValue, "stream start message: field track must be caller or bot")
        }
        if let from = wire.from {
            try checkText(from, field: "from", maxLength: 64)
        }
        return StreamStartMessage(
            callId: wire.callId,
            tenantToken: wire.tenantToken,
            encoding: encoding,
            sampleRate: rate,
            track: track,
            from: wire.from
        )
    }

    private static func checkText(_ value: String, field: String, maxLength: Int) throws(IngestError) {
        guard !value.isEmpty else {
            throw IngestError(.invalidValue, "stream start message: field \(field) is empty")
        }
        guard value.count <= maxLength else {
            throw IngestError(
                .invalidValue,
                "stream start message: field \(field) is longer than \(maxLength) characters"
            )
        }
        guard !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw IngestError(.invalidValue, "stream start message: field \(field) contains control characters")
        }
    }

    private struct Wire: Decodable {
        var callId: String
        var tenantToken: String
        var encoding: String
        var sampleRate: Int
        var track: String
        var from: String?
    }
}
