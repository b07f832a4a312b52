import Testing

@testable import CallVaultSIP

@Suite struct TrackMappingTests {
    func sdp(_ labels: [String?]) throws -> SDPSession {
        try SDPSession.parse(
            Array(SIPFixtures.sdp(media: labels.enumerated().map { ($1, 2000 + 2 * $0, "sendonly") }).utf8)
        )
    }

    func metadata(streams: [(String, String)], participants: [(String, String, [String])]) -> RecordingMetadata {
        var m = RecordingMetadata(dialect: .rfc7865)
        m.streams = streams.map { .init(id: $0.0, label: $0.1) }
        m.participants = participants.map { .init(id: $0.0, aors: [$0.1], sends: $0.2) }
        return m
    }

    @Test func labelOrderWithoutMetadata() throws {
        let mapping = TrackMapping.map(sdp: try sdp(["1", "2", "3"]), metadata: nil)
        #expect(mapping.basis == .labelOrder)
        #expect(mapping.tracks.map(\.role) == [.caller, .bot, .unknown])
        #expect(mapping.contradictions.isEmpty)
    }

    @Test func metadataDecidesEvenWhenLabelsAreBackwards() throws {
        // The SDP lists label 2 first, but the customer sends the stream labelled 1: metadata wins.
        let m = metadata(
            streams: [("s1", "1"), ("s2", "2")],
            participants: [("agent", "sip:a@acme.example", ["s2"]), ("cust", "sip:c@carrier.example", ["s1"])]
        )
        let byFirst = TrackMapping.map(sdp: try sdp(["2", "1"]), metadata: m)
        #expect(byFirst.tracks.map(\.participantID) == ["agent", "cust"])
        #expect(byFirst.tracks.map(\.role) == [.caller, .bot])  // first stream rule: the SDP's first speaker
        let byTenant = TrackMapping.map(
            sdp: try sdp(["2", "1"]),
            metadata: m,
            rule: .notTenantAddress(["acme.example"])
        )
        #expect(byTenant.tracks.map(\.role) == [.bot, .caller])
        #expect(byTenant.contradictions.isEmpty)
        let byAOR = TrackMapping.map(
            sdp: try sdp(["2", "1"]),
            metadata: m,
            rule: .participantAddress("<sip:C@carrier.example;user=phone>")
        )
        #expect(byAOR.tracks.map(\.role) == [.bot, .caller])
        #expect(byAOR.tracks[1].participantAddress == "sip:c@carrier.example")
    }

    @Test func customerRuleThatMatchesNobodyIsReported() throws {
        let m = metadata(
            streams: [("s1", "1"), ("s2", "2")],
            participants: [("x", "sip:x@acme.example", ["s1"]), ("y", "sip:y@acme.example", ["s2"])]
        )
        let mapping = TrackMapping.map(
            sdp: try sdp(["1", "2"]),
            metadata: m,
            rule: .notTenantAddress(["acme.example"])
        )
        #expect(mapping.contradictions == [.customerNotIdentified(matching: 0)])
        #expect(mapping.tracks.map(\.role) == [.caller, .bot])
    }

    @Test func contradictionsAreReportedNotResolved() throws {
        let m = metadata(
            streams: [("s1", "1"), ("s2", "2"), ("s3", "3"), ("s4", "9")],
            participants: [("a", "sip:a@h", ["s1", "s2"]), ("b", "sip:b@h", ["s2"])]
        )
        let mapping = TrackMapping.map(sdp: try sdp(["1", "2", "3", "7", nil, "8", "8"]), metadata: m)
        #expect(mapping.basis == .metadata)
        #expect(mapping.tracks.map(\.role) == [.caller, .unknown, .unknown, .unknown, .unknown, .unknown, .unknown])
        #expect(mapping.contradictions.contains(.streamSentBySeveral(streamID: "s2", participantIDs: ["a", "b"])))
        #expect(mapping.contradictions.contains(.streamWithoutSender(streamID: "s3")))
        #expect(mapping.contradictions.contains(.labelWithoutStream("7")))
        #expect(mapping.contradictions.contains(.mediaWithoutLabel(mediaIndex: 4)))
        #expect(mapping.contradictions.contains(.duplicateLabel("8")))
        #expect(mapping.contradictions.contains(.streamLabelNotInSDP("9")))
    }

    @Test func twoStreamsOnOneLabelAreReported() throws {
        let m = metadata(streams: [("s1", "1"), ("s2", "1")], participants: [("a", "sip:a@h", ["s1"])])
        let mapping = TrackMapping.map(sdp: try sdp(["1"]), metadata: m)
        #expect(mapping.contradictions == [.labelOnSeveralStreams("1")])
        #expect(mapping.tracks.map(\.role) == [.unknown])
    }

    @Test func addressMatching() {
        #expect(CustomerRule.matches("sip:Agent@PBX.acme.example:5060;transport=tcp", "acme.example"))
        #expect(CustomerRule.matches("sips:a@acme.example", "sip:a@acme.example"))
        #expect(!CustomerRule.matches("sip:a@notacme.example", "acme.example"))
        #expect(!CustomerRule.matches("tel:+15551230002", "acme.example"))
    }
}
