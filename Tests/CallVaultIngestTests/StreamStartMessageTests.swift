import Testing

@testable import CallVaultAudio
@testable import CallVaultIngest

@Suite("Stream start message")
struct StreamStartMessageTests {
    func parse(_ text: String) throws -> StreamStartMessage {
        try utf8(text).withUnsafeBytes { try StreamStartMessage.parse($0) }
    }

    /// A valid message with members replaced (nil removes one).
    func message(_ replace: [String: String?] = [:]) -> String {
        var members: [String: String] = [
            "callId": "\"c-42\"", "tenantToken": "\"cvt_secret_token\"", "encoding": "\"L16\"", "sampleRate": "16000",
            "track": "\"caller\"",
        ]
        for (key, value) in replace { members[key] = value }
        return "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
    }

    @Test("a valid message parses, with optional from, and maps to the wire encoding")
    func valid() throws {
        let l16 = try parse(message(["from": "\"+15551234567\""]))
        #expect(
            l16
                == StreamStartMessage(
                    callId: "c-42",
                    tenantToken: "cvt_secret_token",
                    encoding: .l16,
                    sampleRate: .hz16000,
                    track: .caller,
                    from: "+15551234567"
                )
        )
        #expect(l16.audioEncoding == .l16BigEndian)
        let pcmu = try parse(message(["encoding": "\"PCMU\"", "sampleRate": "8000", "track": "\"bot\""]))
        #expect(pcmu.audioEncoding == .muLaw && pcmu.sampleRate == .hz8000 && pcmu.track == .bot && pcmu.from == nil)
    }

    @Test("each bad field is named in its error, and no value (token, number) is echoed")
    func invalid() {
        let cases: [([String: String?], IngestError.Code, String)] = [
            (["callId": nil], .missingField, "no field callId"),
            (["tenantToken": nil], .missingField, "no field tenantToken"),
            (["encoding": nil], .missingField, "no field encoding"),
            (["sampleRate": nil], .missingField, "no field sampleRate"),
            (["track": nil], .missingField, "no field track"),
            (["callId": "42"], .wrongType, "field callId must be a string"),
            (["sampleRate": "\"16000\""], .wrongType, "field sampleRate must be a number"),
            (["from": "5551234567"], .wrongType, "field from must be a string"),
            (["callId": "\"\""], .invalidValue, "field callId is empty"),
            (["callId": "\"" + String(repeating: "x", count: 129) + "\""], .invalidValue, "callId is longer than 128"),
            (["callId": "\"a\\nb\""], .invalidValue, "callId contains control characters"),
            (["tenantToken": "\"\""], .invalidValue, "field tenantToken is empty"),
            (["encoding": "\"OPUS\""], .invalidValue, "field encoding must be L16 or PCMU"),
            (["sampleRate": "44100"], .invalidValue, "field sampleRate must be 8000 or 16000, got 44100"),
            (["sampleRate": "48000"], .invalidValue, "field sampleRate must be 8000 or 16000, got 48000"),
            (["track": "\"both\""], .invalidValue, "field track must be caller or bot"),
            (["from": "\"" + String(repeating: "5", count: 65) + "\""], .invalidValue, "field from is longer than 64"),
        ]
        for (replace, code, fragment) in cases {
            let error = ingestError { _ = try parse(message(replace)) }
            #expect(error?.code == code, "\(replace)")
            #expect(error?.message.contains(fragment) == true, "\(String(describing: error))")
            #expect(error?.message.contains("cvt_secret") != true)
            #expect(error?.message.contains("5555") != true)
        }
        #expect(ingestError { _ = try parse("[1]") }?.code == .wrongType)
        #expect(ingestError { _ = try parse("{\"callId\":") }?.code == .malformedJSON)
    }
}
