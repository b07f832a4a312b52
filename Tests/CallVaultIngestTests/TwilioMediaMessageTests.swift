import Foundation
import Testing

@testable import CallVaultIngest

@Suite("Twilio media messages")
struct TwilioMediaMessageTests {
    /// Parses `text` into a 160-byte payload buffer (20 ms of 8 kHz μ-law); returns the message and bytes.
    func parse(_ text: [UInt8], capacity: Int = 160) throws -> (TwilioMediaMessage, [UInt8]) {
        var payload = [UInt8](repeating: 0, count: capacity)
        let message = try text.withUnsafeBytes { src in
            try payload.withUnsafeMutableBytes { dst in try TwilioMediaMessage.parse(src, payloadInto: dst) }
        }
        return (message, Array(payload[..<message.payloadCount]))
    }

    func error(_ text: String, capacity: Int = 160) -> IngestError? {
        ingestError { _ = try parse(utf8(text), capacity: capacity) }
    }

    /// A valid media message with `payload` and optional replaced pieces, for the malformed cases.
    func media(
        track: String = "\"inbound\"",
        chunk: String = "\"2\"",
        timestamp: String = "\"25\"",
        payload: String = "\"fn5+fn5+fn4=\""
    ) -> String {
        #"{"event":"media","sequenceNumber":"4","media":{"track":\#(track),"chunk":\#(chunk),"timestamp":\#(timestamp),"payload":\#(payload)},"streamSid":"MZ1"}"#
    }

    @Test("the documented media fixtures parse: track, chunk, timestamp, sequence, and the payload Foundation decodes")
    func fixtures() throws {
        for (name, track) in [
            ("twilio-media-inbound.json", TwilioTrack.inbound), ("twilio-media-outbound.json", .outbound),
        ] {
            let text = try Fixture.bytes(name)
            let (message, payload) = try parse(text)
            #expect(message.track == track)
            #expect(message.chunk == 1)
            #expect(message.timestampMs == 5)
            #expect(message.sequenceNumber == (track == .inbound ? 3 : 4))
            #expect(message.payloadCount == 160)
            // Independent check of the payload: Foundation's JSON and base64 decoders.
            let json = try #require(try JSONSerialization.jsonObject(with: Data(text)) as? [String: Any])
            let base64 = try #require((json["media"] as? [String: Any])?["payload"] as? String)
            #expect(payload == [UInt8](try #require(Data(base64Encoded: base64))))
            #expect(try TwilioEvent.classify(text.withUnsafeBytes { UnsafeRawBufferPointer($0) }) == .media)
        }
    }

    @Test("member order, whitespace, unknown members and nested values do not matter")
    func layoutIndependent() throws {
        let text = """
            { "streamSid" : "MZ1", "extra": {"a":[1, -2.5e3, true, false, null, {"b": "\\"}"}]},
              "media" : { "payload":"fn5+fn5+fn4=", "timestamp":"40", "chunk":"3", "track":"outbound", "x":[] },
              "event" : "media" }\r\n
            """
        let (message, payload) = try parse(utf8(text))
        #expect(
            message
                == TwilioMediaMessage(track: .outbound, chunk: 3, timestampMs: 40, sequenceNumber: nil, payloadCount: 8)
        )
        #expect(payload == [0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E])
    }

    @Test("JSON escapes in keys and values are undone before matching and decoding")
    func escapes() throws {
        // "\/" is how some JSON encoders write '/', and \u0065 is 'e': both must mean the same thing.
        let text =
            #"{"\u0065vent":"m\u0065dia","media":{"track":"in\u0062ound","chunk":"\u0031","timestamp":"2\u0030","payload":"\/\/\/\/"}}"#
        let (message, payload) = try parse(utf8(text))
        #expect(message.track == .inbound)
        #expect(message.chunk == 1)
        #expect(message.timestampMs == 20)
        #expect(payload == [0xFF, 0xFF, 0xFF])
    }

    @Test("every malformed message gets its own error code, naming what was wrong and never the payload")
    func malformed() {
        let cases: [(String, IngestError.Code, String)] = [
            (#"{"event":"media","media":{"track":"inbound""#, .truncated, "ends early"),
            (#"{"event":"media","media":{"track":"inbo"#, .truncated, "inside a string"),
            (#"{"event":"media" "media":{}}"#, .malformedJSON, "expected ',' or '}'"),
            (#"{"event":"media",}"#, .malformedJSON, "quoted key"),
            (media() + "x", .malformedJSON, "trailing bytes"),
            (
                #"{"event":"media","media":{"track":"inbound","chunk":"1","timestamp":"1","payload":"a\qb"}}"#,
                .malformedJSON, "unknown escape"
            ),
            (#"{"event":"media","x":"\u12G4"}"#, .malformedJSON, "4 hex digits"),
            ("{\"event\":\"media\",\"x\":\"a\u{01}b\"}", .malformedJSON, "control byte"),
            (#"{"event":"media","x":nul}"#, .malformedJSON, "unknown literal"),
            (#"{"event":"media","x":[1 2]}"#, .malformedJSON, "expected ',' or ']'"),
            (
                #"{"event":"media","x":"# + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}",
                .nestingTooDeep, "deeper than 32"
            ),
            (#"["event","media"]"#, .wrongType, "must be a JSON object"),
            (#"{"media":{}}"#, .missingField, "no event"),
            (#"{"event":"media","event":"media"}"#, .duplicateField, "event appears twice"),
            (#"{"event":7}"#, .wrongType, "event must be a JSON string"),
            (#"{"event":"video"}"#, .unknownEvent, "'video'"),
            (#"{"event":"mark","mark":{"name":"x"}}"#, .unexpectedEvent, "got mark"),
            (#"{"event":"media"}"#, .missingField, "no media object"),
            (#"{"event":"media","media":"fn5+"}"#, .wrongType, "media must be a JSON object"),
            (media(track: "\"both\""), .unknownTrack, "inbound or outbound"),
            (media(track: "1"), .wrongType, "media.track must be a JSON string"),
            (media(chunk: "2"), .wrongType, "media.chunk must be a JSON string"),
            (media(chunk: "\"-2\""), .invalidValue, "media.chunk must be a string of decimal digits"),
            (media(timestamp: "\"\""), .invalidValue, "media.timestamp is empty"),
            (media(timestamp: "\"1234567890123456789\""), .invalidValue, "more than 18 digits"),
            (media(payload: "null"), .wrongType, "media.payload must be a JSON string"),
            (media(payload: "\"fn5+fn5+fn4\""), .invalidBase64, "not a multiple of 4"),
            (media(payload: "\"fn5*fn5+\""), .invalidBase64, "outside the alphabet at offset 3"),
            (media(payload: "\"" + String(repeating: "fn5+", count: 54) + "\""), .payloadTooLarge, "162 bytes"),
            (
                #"{"event":"media","media":{"track":"inbound","track":"inbound"}}"#, .duplicateField,
                "media.track appears twice"
            ),
            (#"{"event":"media","media":{},"media":{}}"#, .duplicateField, "media appears twice"),
        ]
        for (text, code, fragment) in cases {
            let error = error(text)
            #expect(error?.code == code, "\(text)")
            #expect(error?.message.contains(fragment) == true, "\(String(describing: error)) for \(text)")
            #expect(error?.message.contains("fn5") != true, "the payload leaked into \(String(describing: error))")
        }
        // Missing members are named one by one.
        let full = ["\"track\":\"inbound\"", "\"chunk\":\"1\"", "\"timestamp\":\"0\"", "\"payload\":\"fn4=\""]
        for (index, field) in ["media.track", "media.chunk", "media.timestamp", "media.payload"].enumerated() {
            var members = full
            members.remove(at: index)
            let text = #"{"event":"media","media":{"# + members.joined(separator: ",") + "}}"
            #expect(error(text) == IngestError(.missingField, "media message has no \(field)"))
        }
    }

    @Test("every truncation of a valid message is refused, never misread")
    func everyPrefix() throws {
        let text = try Fixture.bytes("twilio-media-inbound.json")
        let end = text.lastIndex(of: UInt8(ascii: "}"))!
        for length in 0...end {
            let prefix = Array(text[..<length])
            #expect(ingestError { _ = try parse(prefix) } != nil, "prefix of \(length) bytes")
        }
    }
}
