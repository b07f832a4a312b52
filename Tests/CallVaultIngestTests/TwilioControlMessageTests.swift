import Testing

@testable import CallVaultAudio
@testable import CallVaultIngest

@Suite("Twilio control messages")
struct TwilioControlMessageTests {
    func control(_ text: [UInt8]) throws -> TwilioControlMessage {
        try text.withUnsafeBytes { try TwilioControlMessage.parse($0) }
    }

    func start(_ text: [UInt8]) throws -> TwilioStartMessage {
        try text.withUnsafeBytes { try TwilioStartMessage.parse($0) }
    }

    @Test("each documented fixture classifies as its event")
    func classify() throws {
        let expected: [(String, TwilioEvent)] = [
            ("twilio-connected.json", .connected), ("twilio-start.json", .start), ("twilio-media-inbound.json", .media),
            ("twilio-dtmf.json", .dtmf), ("twilio-mark.json", .mark), ("twilio-stop.json", .stop),
        ]
        for (name, event) in expected {
            let text = try Fixture.bytes(name)
            #expect(try text.withUnsafeBytes { try TwilioEvent.classify($0) } == event, "\(name)")
        }
    }

    @Test("connected, dtmf, mark and stop fixtures parse to their contents")
    func controlFixtures() throws {
        #expect(try control(Fixture.bytes("twilio-connected.json")) == .connected)
        #expect(try control(Fixture.bytes("twilio-dtmf.json")) == .dtmf(.one))
        #expect(try control(Fixture.bytes("twilio-mark.json")) == .mark(name: "greeting-done"))
        #expect(try control(Fixture.bytes("twilio-stop.json")) == .stop(callSid: "CA3f6a1bcd0e9d4c7b8a2f5e6d7c8b9a01"))
    }

    @Test("the start fixture gives call, stream, tracks, token and format")
    func startFixture() throws {
        let message = try start(Fixture.bytes("twilio-start.json"))
        #expect(message.callSid == "CA3f6a1bcd0e9d4c7b8a2f5e6d7c8b9a01")
        #expect(message.streamSid == "MZ18ad3ab5a668481ce02b83e7395059f0")
        #expect(message.accountSid == "AC25f7bd2b0d1c4e8aa5b3a9c2d4e6f801")
        #expect(message.tracks == [.inbound, .outbound])
        #expect(message.token == "cvt_test_token_1")
        #expect(message.customParameters["FirstName"] == "Jane")
        #expect(message.sampleRate == 8000 && message.channels == 1)
    }

    /// A start message with `start` members replaced.
    func startText(_ replace: [String: String] = [:], drop: String? = nil) -> [UInt8] {
        var members = [
            "streamSid": "\"MZ1\"", "callSid": "\"CA1\"", "tracks": "[\"inbound\"]",
            "mediaFormat": #"{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}"#,
        ]
        for (key, value) in replace { members[key] = value }
        if let drop { members[drop] = nil }
        let body = members.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        return utf8(#"{"event":"start","start":{"# + body + "}}")
    }

    @Test("a bad start message is refused with the field named")
    func badStart() {
        let cases: [(IngestError.Code, String, [UInt8])] = [
            (.missingField, "start.callSid", startText(drop: "callSid")),
            (.missingField, "start.mediaFormat", startText(drop: "mediaFormat")),
            (.wrongType, "start.callSid must be a string", startText(["callSid": "42"])),
            (.wrongType, "start.tracks[0] must be a string", startText(["tracks": "[1]"])),
            (.invalidValue, "start.callSid is empty", startText(["callSid": "\"\""])),
            (.invalidValue, "start.tracks is empty", startText(["tracks": "[]"])),
            (.invalidValue, "lists inbound twice", startText(["tracks": #"["inbound","inbound"]"#])),
            (.unknownTrack, "start.tracks", startText(["tracks": #"["both_tracks"]"#])),
            (
                .invalidValue, "encoding must be audio/x-mulaw",
                startText(["mediaFormat": #"{"encoding":"audio/x-alaw","sampleRate":8000,"channels":1}"#])
            ),
            (
                .invalidValue, "sampleRate must be 8000, got 16000",
                startText(["mediaFormat": #"{"encoding":"audio/x-mulaw","sampleRate":16000,"channels":1}"#])
            ),
            (
                .invalidValue, "channels must be 1, got 2",
                startText(["mediaFormat": #"{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":2}"#])
            ),
            (
                .wrongType, "start.mediaFormat.sampleRate must be a number",
                startText(["mediaFormat": #"{"encoding":"audio/x-mulaw","sampleRate":"8000","channels":1}"#])
            ),
            (.unexpectedEvent, "got stop", utf8(#"{"event":"stop","stop":{}}"#)),
            (.malformedJSON, "JSON", utf8(#"{"event":"start","start":{]}"#)),
        ]
        for (code, fragment, text) in cases {
            let error = ingestError { _ = try start(text) }
            #expect(error?.code == code, "\(String(decoding: text, as: UTF8.self))")
            #expect(error?.message.contains(fragment) == true, "\(String(describing: error))")
        }
    }

    @Test("a bad control message is refused with the field named")
    func badControl() throws {
        let cases: [(IngestError.Code, String, String)] = [
            (.invalidValue, "dtmf.digit", #"{"event":"dtmf","dtmf":{"digit":"12"}}"#),
            (.invalidValue, "dtmf.digit", #"{"event":"dtmf","dtmf":{"digit":"x"}}"#),
            (.missingField, "dtmf.digit", #"{"event":"dtmf","dtmf":{"track":"inbound_track"}}"#),
            (.missingField, "dtmf", #"{"event":"dtmf"}"#),
            (.wrongType, "mark.name must be a string", #"{"event":"mark","mark":{"name":3}}"#),
            (.unexpectedEvent, "got media", #"{"event":"media","media":{}}"#),
            (.unknownEvent, "unknown Twilio event", #"{"event":"\u0000"}"#),
        ]
        for (code, fragment, text) in cases {
            let error = ingestError { _ = try control(utf8(text)) }
            #expect(error?.code == code, "\(text)")
            #expect(error?.message.contains(fragment) == true, "\(String(describing: error))")
        }
        #expect(try control(utf8(##"{"event":"dtmf","dtmf":{"digit":"#"}}"##)) == .dtmf(.pound))
        #expect(try control(utf8(#"{"event":"stop"}"#)) == .stop(callSid: nil))
    }
}
