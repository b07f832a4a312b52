import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultIngest

/// The bot's own words over a real socket (issue 22): kept only while the call records, placed where the
/// stream is (or where the bot's Twilio mark lands), sealed, and every bad request refused with its reason.
@Suite("The bot's utterances, over a real socket", .timeLimit(.minutes(15)))
struct BotUtteranceServeTests {
    static func mark(_ name: String) -> [UInt8] {
        Array(#"{"event":"mark","sequenceNumber":"70","streamSid":"MZ1","mark":{"name":"\#(name)"}}"#.utf8)
    }

    @Test func utterancesAreKeptOnlyWhileTheCallRecordsAndAMarkPlacesThem() async throws {
        let server = try await EvidenceServer.start(policy: TenantPolicy(consentMode: .optIn))
        defer { try? FileManager.default.removeItem(atPath: server.root) }
        let auth = ["Authorization": "Bearer \(server.token)"]
        func post(_ body: String, call: String = "CA-bot", headers: [String: String]? = nil) throws -> (status: Int, body: String) {
            let response = try #require(
                try TestSocketClient(port: server.port).http(
                    "POST", "/v1/calls/\(call)/utterances", headers: headers ?? auth, body: body))
            return (response.status, response.body)
        }
        #expect(try post(#"{"text":"hello"}"#, headers: [:]).status == 401)
        #expect(try post(#"{"text":"hello"}"#, call: "CA-none").status == 404)

        let ws = try TestSocketClient(port: server.port)
        #expect(ws.upgrade("/v1/twilio?token=\(server.token)") == 101)
        ws.sendFrame(opcode: 1, ServeEndToEndTests.start(callSid: "CA-bot"))
        for frame in 0..<25 { ws.sendFrame(opcode: 1, ServeEndToEndTests.media("outbound", frame: frame, fill: 0x55)) }
        _ = poll(timeout: .seconds(10)) { (try? server.catalog.call(tenantID: server.tenantID, externalID: "CA-bot")) != nil }
        // Opt-in and no consent yet: the bot's words are not kept either.
        let early = try post(#"{"text":"This call is recorded. Press 1 to agree.","id":"disclosure"}"#)
        #expect(early.status == 409 && early.body.contains("not being recorded"), "\(early)")

        let consent = try #require(
            try TestSocketClient(port: server.port).http(
                "POST", "/v1/calls/CA-bot/events", headers: auth, body: #"{"type":"consent","method":"api"}"#))
        #expect(consent.status == 200, "\(consent)")
        for frame in 25..<75 { ws.sendFrame(opcode: 1, ServeEndToEndTests.media("outbound", frame: frame, fill: 0x55)) }
        _ = poll(timeout: .seconds(10)) {
            guard let call = try? server.catalog.call(tenantID: server.tenantID, externalID: "CA-bot") else { return false }
            return ((try? server.catalog.recordingSummaries(callID: call.id)) ?? []).contains { $0.durationMs >= 900 }
        }
        let kept = try post(#"{"text":"Thank you. Your card ending 4242 is booked.","id":"u1"}"#)
        #expect(kept.status == 201 && kept.body.contains(#""id":"u1""#), "\(kept)")
        let given = try post(#"{"text":"Goodbye.","id":"u2","startMs":2500,"endMs":2900}"#)
        #expect(given.status == 201 && given.body.contains(#""startMs":2500"#), "\(given)")
        let generated = try post(#"{"text":"One more thing."}"#)
        #expect(generated.status == 201 && generated.body.contains(#""id":""#), "\(generated)")
        // Bad input: each refused with what was wrong; nothing else lost.
        #expect(try post(#"{"text":"again","id":"u1"}"#).status == 409)
        let noText = try post(#"{"id":"u3"}"#)
        #expect(noText.status == 400 && noText.body.contains("is required"), "\(noText)")
        let negative = try post(#"{"text":"x","startMs":-5}"#)
        #expect(negative.status == 400 && negative.body.contains("startMs"), "\(negative)")
        #expect(try post(#"{"text":"x","startMs":"soon"}"#).status == 400)
        #expect(try post(#"{"text":"x","startMs":900,"endMs":100}"#).body.contains("before"))
        #expect(try post(#"{"text":"\#(String(repeating: "a", count: BotUtterance.maximumTextBytes + 1))"}"#).status == 400)
        #expect(try post("not json").status == 400)

        for frame in 75..<100 { ws.sendFrame(opcode: 1, ServeEndToEndTests.media("outbound", frame: frame, fill: 0x55)) }
        ws.sendFrame(opcode: 1, Self.mark("u1"))
        ws.sendFrame(opcode: 1, Self.mark("u2"))
        for frame in 100..<125 { ws.sendFrame(opcode: 1, ServeEndToEndTests.media("outbound", frame: frame, fill: 0x55)) }
        ws.sendFrame(opcode: 1, ServeLimitsTests.stop)
        let close = try #require(ws.readFrame())
        #expect(close.opcode == 8 && TestSocketClient.closeCode(close.payload).code == 1000)
        #expect(try post(#"{"text":"after the call"}"#).status == 409)
        try await server.stop()

        let call = try #require(try server.catalog.call(tenantID: server.tenantID, externalID: "CA-bot"))
        let vault = BotUtteranceVault(catalog: server.catalog, keyStore: server.keyStore)
        let utterances = try await vault.texts(callID: call.id, tenantID: server.tenantID)
        #expect(utterances.count == 3, "\(utterances.map(\.utterance.utteranceId))")
        let u1 = try #require(utterances.first { $0.utterance.utteranceId == "u1" })
        #expect(u1.text == "Thank you. Your card ending 4242 is booked.")
        #expect(u1.utterance.placement == .mark)
        #expect((1_900...2_100).contains(u1.utterance.startMs), "placed by its mark after 2 s: \(u1.utterance)")
        let u2 = try #require(utterances.first { $0.utterance.utteranceId == "u2" })
        #expect(u2.utterance.placement == .given && u2.utterance.startMs == 2_500 && u2.utterance.endMs == 2_900)
        #expect(try server.catalog.botUtterances(callID: call.id).allSatisfy {
            !String(decoding: $0.sealedText, as: UTF8.self).contains("4242")
        })
        #expect(!server.logs.all.joined().contains("4242") && !server.logs.all.joined().contains("booked"), "no bot text in the logs")
    }
}
