import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// `callvault serve --sip` against sipp (Debian sip-tester), a third-party SIP implementation, playing
/// an SBC's SIPREC client per vendor flavour. sipp checks every answer; the catalog must then hold the
/// call under its SIP Call-ID, closed, with the pause and resume on its timeline.
@Suite(
    "SIPREC sessions from sipp", .serialized, .timeLimit(.minutes(10)),
    .enabled(if: Services.required || SIPPScenario.binary != nil, "SKIPPED: sipp is not installed and CALLVAULT_SKIP_SERVICES=1 — the SIP server is NOT tested against sipp; run scripts/services install sipp"))
struct SIPPInteropTests {
    @Test(arguments: SIPPScenario.Flavour.allCases)
    func aSessionOfEachVendorFlavourIsAnsweredPausedResumedAndClosed(_ flavour: SIPPScenario.Flavour) throws {
        let (root, data) = try SIPServerEndToEndTests.setUp()
        let (server, port) = try SIPServerEndToEndTests.serve(data)
        defer { server.terminate() }
        let options = try SIPPScenario.run(SIPPScenario.options, port: port, directory: root)
        #expect(options.status == 0, "OPTIONS: \(options.output)")
        let run = try SIPPScenario.run(SIPPScenario.session(flavour), port: port, directory: root)
        #expect(run.status == 0, "sipp \(flavour): \(run.output)")
        let catalog = try ServeEndToEndTests.catalog(data: data)
        let calls = try catalog.calls(externalID: run.callID)
        let call = try #require(calls.first, "the session's call is in the catalog")
        #expect(calls.count == 1)
        #expect(try poll(timeout: .seconds(10)) { try catalog.call(id: call.id).endedAt != nil }, "closed after the BYE")
        let kinds = try catalog.consentEvents(callID: call.id).map(\.kind)
        #expect(kinds.filter { $0 == .pause }.count == 1 && kinds.filter { $0 == .resume }.count == 1, "\(kinds)")
        #expect(try server.stop() == 0)
    }

    @Test func aTenantThatDoesNotAllowTheSourceRefusesTheSession() throws {
        let (root, data) = try SIPServerEndToEndTests.setUp()
        let (server, port) = try SIPServerEndToEndTests.serve(data)
        defer { server.terminate() }
        let run = try SIPPScenario.run(SIPPScenario.session(.rfc7866), port: port, service: "closed", directory: root)
        #expect(run.status != 0)
        #expect(run.output.contains("403"), "\(run.output)")
        #expect(try server.stop() == 0)
    }
}
