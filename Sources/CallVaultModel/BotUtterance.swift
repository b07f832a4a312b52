/// One thing the bot said on a call, as the bot's platform sent it (`POST /v1/calls/{id}/utterances`):
/// its exact text, so the bot's side of the transcript comes from the bot and not from speech recognition.
///
/// Stored sealed (``sealedText``: AES-256-GCM under the call's bot-text data key, bound to the call and
/// the utterance id); the plain text lives only in memory, in the request that brings it and in the
/// transcription worker that places it. `startMs` is where it starts on the call's timeline: given by the
/// platform, or where the live stream was when it arrived, or moved to a Twilio `mark` named after its id.
public struct BotUtterance: Sendable, Equatable {
    /// How its start was placed.
    public enum Placement: String, Sendable, Codable {
        /// `startMs` came with the request.
        case given
        /// The live stream's position when the request arrived.
        case arrival
        /// A Twilio `mark` named after the utterance id, echoed once the audio before it had played.
        case mark
    }

    public var callId: String
    /// The platform's id for it (unique within the call), or one CallVault made.
    public var utteranceId: String
    public var startMs: Int64
    /// Where it ends, if the platform knows; otherwise the bot track's speech decides.
    public var endMs: Int64?
    public var placement: Placement
    /// nonce (12) ‖ ciphertext ‖ tag (16).
    public var sealedText: [UInt8]

    public init(
        callId: String, utteranceId: String, startMs: Int64, endMs: Int64?, placement: Placement, sealedText: [UInt8]
    ) {
        self.callId = callId
        self.utteranceId = utteranceId
        self.startMs = startMs
        self.endMs = endMs
        self.placement = placement
        self.sealedText = sealedText
    }

    /// The longest text accepted, in UTF-8 bytes (a bot turn, not a document).
    public static let maximumTextBytes = 8_192
    /// The longest utterance id accepted.
    public static let maximumIDLength = 100
}
