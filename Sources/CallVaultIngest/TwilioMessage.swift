/// A Twilio text frame after one allocation-free pass: media read whole, anything else classified.
///
/// The server's read loop calls ``parse(_:payloadInto:)`` on every frame. Media (about 50 a
/// second per track) come back ready to use; the rare other events come back as their
/// ``TwilioEvent`` so the server can hand the same bytes to ``TwilioStartMessage/parse(_:)`` or
/// ``TwilioControlMessage/parse(_:)``, which may allocate.
public enum TwilioMessage: Sendable, Equatable {
    /// A `media` message; its payload is in the caller's buffer.
    case media(TwilioMediaMessage)
    /// Any other known event (`connected`, `start`, `dtmf`, `mark`, `stop`), not read further.
    case other(TwilioEvent)

    /// Reads one text frame; a media payload is decoded into the start of `payload`.
    ///
    /// The whole frame's JSON is validated in every case. A frame of another event that carries
    /// a malformed `media` member is refused too (Twilio never sends one).
    /// - Throws: the errors of ``TwilioMediaMessage/parse(_:payloadInto:)`` except `unexpectedEvent`.
    public static func parse(
        _ text: UnsafeRawBufferPointer,
        payloadInto payload: UnsafeMutableRawBufferPointer
    ) throws(IngestError) -> TwilioMessage {
        try TwilioMediaMessage.parseAny(text, payloadInto: payload)
    }
}
