import Testing

@testable import CallVaultIngest

@Suite("Twilio message dispatch")
struct TwilioMessageTests {
    @Test("one pass reads media whole and classifies every other fixture, with no payload written for them")
    func dispatch() throws {
        let expected: [(String, TwilioEvent)] = [
            ("twilio-connected.json", .connected), ("twilio-start.json", .start), ("twilio-dtmf.json", .dtmf),
            ("twilio-mark.json", .mark), ("twilio-stop.json", .stop),
        ]
        var payload = [UInt8](repeating: 0xAA, count: 160)
        for (name, event) in expected {
            let text = try Fixture.bytes(name)
            let message = try text.withUnsafeBytes { src in
                try payload.withUnsafeMutableBytes { try TwilioMessage.parse(src, payloadInto: $0) }
            }
            #expect(message == .other(event), "\(name)")
        }
        #expect(payload.allSatisfy { $0 == 0xAA })
        let media = try Fixture.bytes("twilio-media-outbound.json")
        let message = try media.withUnsafeBytes { src in
            try payload.withUnsafeMutableBytes { try TwilioMessage.parse(src, payloadInto: $0) }
        }
        guard case .media(let parsed) = message else {
            Issue.record("expected media, got \(message)")
            return
        }
        #expect(parsed.track == .outbound && parsed.payloadCount == 160)
        let bad = ingestError {
            _ = try utf8(#"{"event":"dtmf","dtmf":{"digit":"1"}"#).withUnsafeBytes { src in
                try payload.withUnsafeMutableBytes { try TwilioMessage.parse(src, payloadInto: $0) }
            }
        }
        #expect(bad?.code == .truncated)
    }
}
