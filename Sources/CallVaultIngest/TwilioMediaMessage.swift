/// One Twilio `media` message: which track, where on the timeline, and its μ-law payload.
///
/// ```json
/// {"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1",
///  "timestamp":"5","payload":"fn5+fn5+…"},"streamSid":"MZ…"}
/// ```
/// Parsing reads the received bytes in place and base64-decodes the payload straight into a
/// buffer the caller preallocated per connection: no `String`, no `Data`, no heap allocation.
public struct TwilioMediaMessage: Sendable, Equatable {
    /// The side of the call (`media.track`).
    public var track: TwilioTrack
    /// Twilio's per-track chunk counter (`media.chunk`), starting at 1.
    public var chunk: UInt64
    /// Milliseconds since the stream started (`media.timestamp`): where the payload's first
    /// sample goes on the track's timeline.
    public var timestampMs: Int64
    /// The message counter (`sequenceNumber`) if present.
    public var sequenceNumber: UInt64?
    /// How many μ-law bytes (= samples at 8 kHz) the payload decoded to, at the buffer's start.
    public var payloadCount: Int

    public init(track: TwilioTrack, chunk: UInt64, timestampMs: Int64, sequenceNumber: UInt64?, payloadCount: Int) {
        self.track = track
        self.chunk = chunk
        self.timestampMs = timestampMs
        self.sequenceNumber = sequenceNumber
        self.payloadCount = payloadCount
    }

    /// Parses a `media` text frame and decodes its payload into the start of `payload`.
    ///
    /// The whole message is validated before the payload is decoded. Unknown members (such as
    /// `streamSid`) are skipped; the members read here must each appear once.
    /// - Throws: `IngestError` — bad JSON (`truncated`, `malformedJSON`, `nestingTooDeep`),
    ///   `missingField`/`duplicateField`/`wrongType`/`invalidValue` naming the field,
    ///   `unknownEvent`, `unexpectedEvent` (a valid event other than media), `unknownTrack`,
    ///   `invalidBase64`, `payloadTooLarge`. No message contains payload bytes. After an error
    ///   the buffer's contents are unspecified (never written past its end).
    public static func parse(
        _ text: UnsafeRawBufferPointer,
        payloadInto payload: UnsafeMutableRawBufferPointer
    ) throws(IngestError) -> TwilioMediaMessage {
        switch try parseAny(text, payloadInto: payload) {
        case .media(let message):
            return message
        case .other(let event):
            throw IngestError(.unexpectedEvent, "expected a Twilio media message, got \(event.rawValue)")
        }
    }

    /// One pass over any Twilio text frame: a media message is read whole, another event only
    /// classified (see ``TwilioMessage/parse(_:payloadInto:)``).
    static func parseAny(
        _ text: UnsafeRawBufferPointer,
        payloadInto payload: UnsafeMutableRawBufferPointer
    ) throws(IngestError) -> TwilioMessage {
        var fields = Fields()
        var scanner = JSONScanner(text)
        try scanner.beginObject("a Twilio message")
        var first = true
        while let key = try scanner.nextKey(first: &first) {
            if key.equals("event", in: text) {
                try once(fields.event, "event")
                fields.event = try scanner.stringValue("event")
            } else if key.equals("media", in: text) {
                try scanMedia(&scanner, into: &fields)
            } else if key.equals("sequenceNumber", in: text) {
                try once(fields.sequenceNumber, "sequenceNumber")
                fields.sequenceNumber = try scanner.stringValue("sequenceNumber")
            } else {
                try scanner.skipValue(depth: 1)
            }
        }
        try scanner.expectEnd()

        guard let eventSpan = fields.event else {
            throw IngestError(.missingField, "Twilio message has no event field")
        }
        let event = try TwilioEvent(span: eventSpan, in: text)
        guard event == .media else { return .other(event) }
        guard fields.sawMedia else { throw IngestError(.missingField, "media message has no media object") }
        guard let trackSpan = fields.track else { throw missing("media.track") }
        guard let chunkSpan = fields.chunk else { throw missing("media.chunk") }
        guard let timestampSpan = fields.timestamp else { throw missing("media.timestamp") }
        guard let payloadSpan = fields.payload else { throw missing("media.payload") }

        let track: TwilioTrack
        if trackSpan.equals("inbound", in: text) {
            track = .inbound
        } else if trackSpan.equals("outbound", in: text) {
            track = .outbound
        } else {
            throw IngestError(.unknownTrack, "media.track must be inbound or outbound")
        }
        let chunk = try number(chunkSpan, in: text, "media.chunk")
        let timestamp = try number(timestampSpan, in: text, "media.timestamp")
        var sequence: UInt64?
        if let span = fields.sequenceNumber {
            sequence = try number(span, in: text, "sequenceNumber")
        }
        let count = try decodePayload(payloadSpan, in: text, into: payload)
        return .media(
            TwilioMediaMessage(
                track: track,
                chunk: chunk,
                timestampMs: Int64(timestamp),
                sequenceNumber: sequence,
                payloadCount: count
            )
        )
    }

    /// Spans of the members read, filled during the single pass.
    struct Fields {
        var event: JSONStringSpan?
        var sequenceNumber: JSONStringSpan?
        var sawMedia = false
        var track: JSONStringSpan?
        var chunk: JSONStringSpan?
        var timestamp: JSONStringSpan?
        var payload: JSONStringSpan?
    }

    /// Walks the `media` object, recording the spans of its four members.
    static func scanMedia(_ scanner: inout JSONScanner, into fields: inout Fields) throws(IngestError) {
        let text = scanner.bytes
        guard !fields.sawMedia else { throw IngestError(.duplicateField, "field media appears twice") }
        fields.sawMedia = true
        try scanner.beginObject("media")
        var first = true
        while let key = try scanner.nextKey(first: &first) {
            if key.equals("payload", in: text) {
                try once(fields.payload, "media.payload")
                fields.payload = try scanner.stringValue("media.payload")
            } else if key.equals("timestamp", in: text) {
                try once(fields.timestamp, "media.timestamp")
                fields.timestamp = try scanner.stringValue("media.timestamp")
            } else if key.equals("track", in: text) {
                try once(fields.track, "media.track")
                fields.track = try scanner.stringValue("media.track")
            } else if key.equals("chunk", in: text) {
                try once(fields.chunk, "media.chunk")
                fields.chunk = try scanner.stringValue("media.chunk")
            } else {
                try scanner.skipValue(depth: 2)
            }
        }
    }

    /// Decodes the payload string, in place when it has no escapes, else through the unescaper.
    static func decodePayload(
        _ span: JSONStringSpan,
        in text: UnsafeRawBufferPointer,
        into payload: UnsafeMutableRawBufferPointer
    ) throws(IngestError) -> Int {
        if !span.hasEscapes {
            return try Base64.decode(span.raw(in: text), into: payload)
        }
        var reader = JSONStringReader(bytes: text, span: span)
        var decoder = Base64StreamDecoder()
        while let character = reader.next() {
            try decoder.feed(character, into: payload)
        }
        return try decoder.finish()
    }

    /// A non-negative decimal integer from a numeric string (at most 18 digits).
    static func number(_ span: JSONStringSpan, in text: UnsafeRawBufferPointer, _ field: StaticString)
        throws(IngestError) -> UInt64
    {
        var reader = JSONStringReader(bytes: text, span: span)
        var value: UInt64 = 0
        var digits = 0
        while let character = reader.next() {
            guard character >= 0x30 && character <= 0x39 else {
                throw IngestError(.invalidValue, "\(field) must be a string of decimal digits")
            }
            digits += 1
            guard digits <= 18 else { throw IngestError(.invalidValue, "\(field) has more than 18 digits") }
            value = value &* 10 &+ UInt64(character &- 0x30)
        }
        guard digits > 0 else { throw IngestError(.invalidValue, "\(field) is empty") }
        return value
    }

    static func once(_ seen: JSONStringSpan?, _ field: StaticString) throws(IngestError) {
        if seen != nil { throw IngestError(.duplicateField, "field \(field) appears twice") }
    }

    static func missing(_ field: StaticString) -> IngestError {
        IngestError(.missingField, "media message has no \(field)")
    }
}
