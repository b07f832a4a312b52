import Testing

@testable import CallVaultSIP

/// One INVITE per SRC flavour of the research note, through the whole layer: datagram, stream framing,
/// detection, multipart, SDP, metadata, mapping.
@Suite struct VendorFlavourTests {
    func offer(_ bytes: [UInt8]) throws -> (SIPMessage, SIPRECOffer) {
        let message = try #require(try SIPMessage.parse(datagram: bytes))
        // The same bytes over TCP in 5-byte reads give the same message.
        var framer = SIPFramer()
        var streamed: [SIPMessage] = []
        var i = 0
        while i < bytes.count {
            framer.append(bytes[i..<min(bytes.count, i + 5)])
            while let m = try framer.nextMessage() { streamed.append(m) }
            i += 5
        }
        #expect(streamed == [message])
        return (message, try SIPRECOffer.parse(message))
    }

    @Test func rfc7866() throws {
        let (message, offer) = try offer(SIPFixtures.rfc7866Invite)
        #expect(offer.detection.reasons == [.requireSiprec, .contactSrc, .metadataPart])
        #expect(offer.detection.required)
        #expect(try message.vias().first?.hasRport == true)
        let sdp = try #require(offer.sdp)
        #expect(sdp.media.map(\.label) == ["1", "2"])
        #expect(sdp.direction(ofMedia: 0) == .sendonly)
        let mapping = TrackMapping.map(sdp: sdp, metadata: offer.metadata, rule: .notTenantAddress(["acme.example"]))
        #expect(mapping.basis == .metadata && mapping.contradictions.isEmpty)
        #expect(mapping.tracks.map(\.role) == [.caller, .bot])
        #expect(mapping.tracks[0].participantAddress == "sip:+15551230001@carrier.example")
    }

    @Test func oracleAcmeDraft() throws {
        let (message, offer) = try offer(SIPFixtures.acmeInvite)
        #expect(message.callID == "3a1b-acme@198.51.100.7")
        #expect(try message.headers.list("From").count == 1)  // the comma in the quoted name does not split
        #expect(offer.detection.reasons == [.requireSiprec, .supportedSiprec, .contactSrc, .metadataPart])
        #expect(offer.metadata?.dialect == .draft)
        let mapping = TrackMapping.map(sdp: try #require(offer.sdp), metadata: offer.metadata)
        #expect(mapping.tracks.map(\.participantID) == ["UEFSVC1DVVNU", "UEFSVC1BR0VOVA=="])
        #expect(mapping.tracks.map(\.role) == [.caller, .bot] && mapping.contradictions.isEmpty)
    }

    @Test func broadWorks() throws {
        let (_, offer) = try offer(SIPFixtures.broadWorksInvite)
        #expect(offer.detection.reasons == [.contactSrc, .metadataPart])
        #expect(!offer.detection.required)
        #expect(offer.metadata?.dialect == .siprecNamespace)
        // BroadWorks lists the agent's stream first; the tenant rule finds the customer.
        let sdp = try #require(offer.sdp)
        let byOrder = TrackMapping.map(sdp: sdp, metadata: offer.metadata)
        #expect(byOrder.tracks.map(\.role) == [.caller, .bot])
        let byTenant = TrackMapping.map(
            sdp: sdp,
            metadata: offer.metadata,
            rule: .notTenantAddress(["sip:2001@acme.example"])
        )
        #expect(byTenant.tracks.map(\.role) == [.bot, .caller])
        #expect(byTenant.tracks[1].participantAddress == "tel:+15551230002")
    }

    @Test func ciscoWithGtdPartAndInactiveOffer() throws {
        let (message, offer) = try offer(SIPFixtures.ciscoInvite)
        #expect(message.headers.hasOptionTag("100rel", in: "Require"))
        #expect(offer.detection.required)
        #expect(offer.ignoredParts == ["application/gtd"])
        let sdp = try #require(offer.sdp)
        #expect(sdp.media.indices.map { sdp.direction(ofMedia: $0) } == [.inactive, .inactive])
        #expect(sdp.media[0].rtpmaps.map(\.encoding) == ["PCMU", "CN"])
        let mapping = TrackMapping.map(sdp: sdp, metadata: offer.metadata)
        #expect(mapping.tracks.map(\.role) == [.caller, .bot] && mapping.contradictions.isEmpty)
    }

    @Test func noMetadataAtAll() throws {
        let (_, offer) = try offer(SIPFixtures.noMetadataInvite)
        #expect(!offer.detection.isSIPREC)
        #expect(offer.metadata == nil)
        let mapping = TrackMapping.map(sdp: try #require(offer.sdp), metadata: nil)
        #expect(mapping.basis == .labelOrder)
        #expect(mapping.tracks.map(\.role) == [.caller, .bot])
    }

    @Test func metadataOnlyUpdateAndOfferlessInvite() throws {
        let update = SIPFixtures.message(
            [
                "UPDATE sip:acme@recorder.example SIP/2.0", "Call-ID: u", "CSeq: 3 UPDATE",
                "Content-Type: application/rs-metadata+xml",
            ],
            body: SIPFixtures.rfc7866Metadata
        )
        let (_, offer) = try offer(update)
        #expect(offer.sdp == nil && offer.metadata?.streams.count == 2)
        let offerless = SIPFixtures.message([
            "INVITE sip:acme@recorder.example SIP/2.0", "Call-ID: o", "CSeq: 4 INVITE",
        ])
        #expect(try self.offer(offerless).1.sdp == nil)
    }

    @Test func unsupportedBodyRefused() throws {
        let m = SIPFixtures.message(["INVITE sip:a@b SIP/2.0", "Content-Type: text/html"], body: "<p>")
        #expect(throws: SIPParseError.unsupportedContentType("text/html")) { try self.offer(m) }
    }
}
