public import CallVaultAudio

/// A Twilio message other than `start` and `media`: the stream's bookends and its in-call events.
///
/// Rare (a handful per call), so decoded with Foundation. `dtmf` matters: with a tenant's
/// consent digit it is how a caller consents.
public enum TwilioControlMessage: Sendable, Equatable {
    /// `connected`: the first message, before `start`.
    case connected
    /// `dtmf`: the caller pressed a key (`dtmf.digit`), on `dtmf.track` (Twilio says `inbound_track`).
    case dtmf(DTMFDigit)
    /// `mark`: a label the bot sent earlier has finished playing (`mark.name`).
    case mark(name: String)
    /// `stop`: the stream ended; `stop.callSid` if sent.
    case stop(callSid: String?)

    /// Parses a `connected`, `dtmf`, `mark` or `stop` text frame.
    ///
    /// - Throws: the JSON errors of ``TwilioEvent/classify(_:)``, `unexpectedEvent` for `start`
    ///   or `media`, `missingField`/`wrongType` naming the field, `invalidValue` for a DTMF digit
    ///   outside 0–9, *, #, A–D.
    public static func parse(_ text: UnsafeRawBufferPointer) throws(IngestError) -> TwilioControlMessage {
        let event = try TwilioEvent.classify(text)
        switch event {
        case .connected:
            return .connected
        case .dtmf:
            let wire = try IngestError.decode(DTMFWire.self, from: text, what: "Twilio dtmf message")
            let digit = wire.dtmf.digit
            guard digit.count == 1, let key = digit.first.flatMap(DTMFDigit.init(rawValue:)) else {
                throw IngestError(.invalidValue, "dtmf.digit must be one of 0-9, *, #, A-D")
            }
            return .dtmf(key)
        case .mark:
            let wire = try IngestError.decode(MarkWire.self, from: text, what: "Twilio mark message")
            return .mark(name: wire.mark.name)
        case .stop:
            let wire = try IngestError.decode(StopWire.self, from: text, what: "Twilio stop message")
            return .stop(callSid: wire.stop?.callSid)
        case .start, .media:
            throw IngestError(.unexpectedEvent, "expected a Twilio control message, got \(event.rawValue)")
        }
    }

    private struct DTMFWire: Decodable {
        struct DTMF: Decodable { var digit: String }
        var dtmf: DTMF
    }

    private struct MarkWire: Decodable {
        struct Mark: Decodable { var name: String }
        var mark: Mark
    }

    private struct StopWire: Decodable {
        struct Stop: Decodable { var callSid: String? }
        var stop: Stop?
    }
}
