/// The `start` message of a Twilio stream: which call, which tracks, the audio format, and the
/// custom parameters (where CallVault expects the tenant token).
///
/// ```json
/// {"event":"start","sequenceNumber":"1","start":{"accountSid":"AC…","streamSid":"MZ…",
///  "callSid":"CA…","tracks":["inbound","outbound"],"customParameters":{"token":"…"},
///  "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ…"}
/// ```
/// Sent once per stream, so it is decoded with Foundation (allocation is fine here). The format
/// is checked: Media Streams only ever send 8 kHz mono μ-law, and anything else would be recorded
/// as noise.
public struct TwilioStartMessage: Sendable, Equatable {
    /// The call (`start.callSid`): CallVault's call id for this stream.
    public var callSid: String
    /// The stream (`start.streamSid`), for logs.
    public var streamSid: String
    /// The Twilio account (`start.accountSid`), if sent.
    public var accountSid: String?
    /// The tracks this stream carries (`start.tracks`), at least one, no duplicates.
    public var tracks: [TwilioTrack]
    /// `start.customParameters` as sent (the `<Parameter>`s of the TwiML `<Stream>`).
    public var customParameters: [String: String]
    /// `start.mediaFormat.sampleRate`; always 8000 after validation.
    public var sampleRate: Int
    /// `start.mediaFormat.channels`; always 1 after validation.
    public var channels: Int

    /// The tenant token from `customParameters.token`, if the TwiML carried it there.
    public var token: String? { customParameters["token"] }

    public init(
        callSid: String,
        streamSid: String,
        accountSid: String?,
        tracks: [TwilioTrack],
        customParameters: [String: String],
        sampleRate: Int = 8000,
        channels: Int = 1
    ) {
        self.callSid = callSid
        self.streamSid = streamSid
        self.accountSid = accountSid
        self.tracks = tracks
        self.customParameters = customParameters
        self.sampleRate = sampleRate
        self.channels = channels
    }

    /// Parses and validates a `start` text frame.
    ///
    /// - Throws: the JSON errors of ``TwilioEvent/classify(_:)``, `unexpectedEvent` for another
    ///   event, `missingField`/`wrongType` naming the field (`start.callSid`, `start.mediaFormat.encoding`…),
    ///   `invalidValue` for an empty id, no or duplicate tracks, or a format other than 8 kHz mono μ-law,
    ///   `unknownTrack` for a track other than inbound/outbound.
    public static func parse(_ text: UnsafeRawBufferPointer) throws(IngestError) -> TwilioStartMessage {
        let event = try TwilioEvent.classify(text)
        guard event == .start else {
            throw IngestError(.unexpectedEvent, "expected a Twilio start message, got \(event.rawValue)")
        }
        let wire = try IngestError.decode(Wire.self, from: text, what: "Twilio start message")
        let start = wire.start
        guard !start.callSid.isEmpty else { throw IngestError(.invalidValue, "start.callSid is empty") }
        guard !start.streamSid.isEmpty else { throw IngestError(.invalidValue, "start.streamSid is empty") }
        var tracks: [TwilioTrack] = []
        for name in start.tracks {
            guard let track = TwilioTrack(rawValue: name) else {
                throw IngestError(.unknownTrack, "start.tracks must hold inbound and/or outbound")
            }
            guard !tracks.contains(track) else {
                throw IngestError(.invalidValue, "start.tracks lists \(track.rawValue) twice")
            }
            tracks.append(track)
        }
        guard !tracks.isEmpty else { throw IngestError(.invalidValue, "start.tracks is empty") }
        let format = start.mediaFormat
        guard format.encoding == "audio/x-mulaw" else {
            throw IngestError(.invalidValue, "start.mediaFormat.encoding must be audio/x-mulaw")
        }
        guard format.sampleRate == 8000 else {
            throw IngestError(.invalidValue, "start.mediaFormat.sampleRate must be 8000, got \(format.sampleRate)")
        }
        guard format.channels == 1 else {
            throw IngestError(.invalidValue, "start.mediaFormat.channels must be 1, got \(format.channels)")
        }
        return TwilioStartMessage(
            callSid: start.callSid,
            streamSid: start.streamSid,
            accountSid: start.accountSid,
            tracks: tracks,
            customParameters: start.customParameters ?? [:],
            sampleRate: format.sampleRate,
            channels: format.channels
        )
    }

    /// The message as Twilio sends it, for Foundation's decoder.
    private struct Wire: Decodable {
        struct Start: Decodable {
            var accountSid: String?
            var streamSid: String
            var callSid: String
            var tracks: [String]
            var customParameters: [String: String]?
            var mediaFormat: MediaFormat
        }
        struct MediaFormat: Decodable {
            var encoding: String
            var sampleRate: Int
            var channels: Int
        }
        var start: Start
    }
}
