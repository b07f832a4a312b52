/// The `event` of a Twilio Media Streams message, which decides how the rest is read.
///
/// See Twilio's "Media Streams — WebSocket Messages": a stream sends `connected`, then `start`,
/// then `media` (every 20 ms per track), `dtmf` and `mark` as they happen, and `stop` at the end.
public enum TwilioEvent: String, Sendable, CaseIterable {
    case connected, start, media, dtmf, mark, stop

    /// Reads the `event` of a text frame without allocating, validating the whole message's JSON.
    ///
    /// - Throws: `truncated`/`malformedJSON`/`nestingTooDeep` for bad JSON, `missingField` or
    ///   `wrongType` for a missing or non-string `event`, `unknownEvent` for any other name.
    public static func classify(_ text: UnsafeRawBufferPointer) throws(IngestError) -> TwilioEvent {
        var scanner = JSONScanner(text)
        try scanner.beginObject("a Twilio message")
        var event: JSONStringSpan?
        var first = true
        while let key = try scanner.nextKey(first: &first) {
            if key.equals("event", in: text) {
                guard event == nil else { throw IngestError(.duplicateField, "field event appears twice") }
                event = try scanner.stringValue("event")
            } else {
                try scanner.skipValue(depth: 1)
            }
        }
        try scanner.expectEnd()
        guard let event else { throw IngestError(.missingField, "Twilio message has no event field") }
        return try TwilioEvent(span: event, in: text)
    }

    /// The event named by a string span, or `unknownEvent`.
    init(span: JSONStringSpan, in text: UnsafeRawBufferPointer) throws(IngestError) {
        // Compare in order of frequency: media is ~50 messages a second per track.
        if span.equals("media", in: text) {
            self = .media
        } else if span.equals("dtmf", in: text) {
            self = .dtmf
        } else if span.equals("mark", in: text) {
            self = .mark
        } else if span.equals("start", in: text) {
            self = .start
        } else if span.equals("stop", in: text) {
            self = .stop
        } else if span.equals("connected", in: text) {
            self = .connected
        } else {
            let name = span.printable(in: text).map { " '\($0)'" } ?? ""
            throw IngestError(
                .unknownEvent,
                "unknown Twilio event\(name) (expected connected, start, media, dtmf, mark or stop)"
            )
        }
    }
}
