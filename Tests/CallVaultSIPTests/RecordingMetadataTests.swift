import Testing

@testable import CallVaultSIP

@Suite struct RecordingMetadataTests {
    func parse(_ s: String) throws -> RecordingMetadata { try RecordingMetadata.parse(Array(s.utf8)) }

    @Test func rfc7865() throws {
        let m = try parse(SIPFixtures.rfc7866Metadata)
        #expect(m.dialect == .rfc7865)
        #expect(m.sessionIDs == ["c2Vzc2lvbi0x"])
        #expect(m.participants.map(\.id) == ["cGFydC1h", "cGFydC1i"])
        #expect(m.participants[0].aors == ["sip:+15551230001@carrier.example"])
        #expect(m.participants[0].names == ["Customer & Co"])
        #expect(m.participants[0].sends == ["c3RyZWFtLTE="] && m.participants[0].receives == ["c3RyZWFtLTI="])
        #expect(m.streams.map(\.label) == ["1", "2"])
        #expect(m.streams[0].sessionID == "c2Vzc2lvbi0x")
    }

    @Test func acmeDraft() throws {
        let m = try parse(SIPFixtures.acmeMetadata)
        #expect(m.dialect == .draft)
        #expect(m.participants.count == 2)
        #expect(m.participants[1].aors == ["sip:4000@pbx.acme.example"])
        #expect(m.participants[0].sends == ["U1RSLUNVU1Q="])
        #expect(m.streams.map(\.id) == ["U1RSLUNVU1Q=", "U1RSLUFHRU5U"])
        #expect(m.streams.map(\.label) == ["276", "277"])
    }

    @Test func broadWorksPrefixedSiprecNamespace() throws {
        let m = try parse(SIPFixtures.broadWorksMetadata)
        #expect(m.dialect == .siprecNamespace)
        #expect(m.participants.map(\.sends) == [["YndzLXMx"], ["YndzLXMy"]])
    }

    @Test func ribbonStyleTnsPrefixLabelAttributeAndDraftAssociation() throws {
        let m = try parse(
            """
            <tns:recording xmlns:tns="urn:ietf:params:xml:ns:recording">
              <tns:callData><tns:header>anything</tns:header></tns:callData>
              <tns:group id="g1"><tns:session id="s1"/></tns:group>
              <tns:participant id="p1"><tns:aor>sip:cust@example.net</tns:aor></tns:participant>
              <tns:stream id="st1" label="10"/>
              <tns:participantstreamassoc id="a1"><tns:participant>p1</tns:participant><tns:send>st1</tns:send></tns:participantstreamassoc>
            </tns:recording>
            """
        )
        #expect(m.dialect == .draft)
        #expect(m.sessionIDs == ["s1"])
        #expect(m.participants == [.init(id: "p1", aors: ["sip:cust@example.net"], sends: ["st1"])])
        #expect(m.streams.first?.label == "10")
    }

    @Test func otherRootRefused() {
        #expect(throws: SIPParseError.notRecordingMetadata) { try parse("<html/>") }
    }
}
