/// An error from the ingest protocol layer: which rule the peer's bytes broke, in words an operator
/// can act on.
///
/// Messages name the field, the offset or the count that was wrong; they never contain audio
/// payload, tokens or phone numbers, so they are safe to log and to send back as a close reason.
public struct IngestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, stable for programs (and metrics labels) to switch on.
    public enum Code: String, Sendable, Equatable, CaseIterable {
        // JSON text frames
        /// The message ended in the middle of a JSON value.
        case truncated
        /// A byte that JSON does not allow at that place.
        case malformedJSON
        /// Objects or arrays nested deeper than the scanner follows.
        case nestingTooDeep
        /// A field the message needs is absent.
        case missingField
        /// A field appears twice in one object (refused: two readers could pick different ones).
        case duplicateField
        /// A field has the wrong JSON type (string where an object is needed, and so on).
        case wrongType
        /// A field has the right type but a value outside what the protocol allows.
        case invalidValue
        /// A Twilio `event` this layer does not know.
        case unknownEvent
        /// The message is a valid event but not the one the caller asked to parse.
        case unexpectedEvent
        /// A `media.track` other than inbound or outbound.
        case unknownTrack
        /// The decoded payload does not fit the caller's buffer.
        case payloadTooLarge
        /// The payload is not valid base64 (RFC 4648, standard alphabet, padded).
        case invalidBase64
        // AudioSocket
        /// An AudioSocket message kind this layer does not know.
        case unknownKind
        /// A message longer than the configured maximum.
        case messageTooLarge
        /// A message whose length does not fit its kind (UUID not 16 bytes, DTMF not 1, odd PCM16).
        case wrongLength
        /// Any message before the call's UUID, or a second UUID.
        case uuidNotFirst
        /// A message after the stream's hangup or error message.
        case messageAfterEnd
        /// The stream ended in the middle of a message.
        case streamEndedMidMessage
        // Audio
        /// A sample rate the frame path does not carry.
        case unsupportedSampleRate
        /// A Twilio media timestamp earlier than audio already received on that track.
        case timestampOutOfOrder
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
