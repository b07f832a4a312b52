import CallVaultConsole
import CallVaultModel
import CallVaultStore
import CallVaultAudio
import CallVaultRecorder
import Foundation
import Logging
import Testing

/// The live-calls page: calls without an end in the operator's tenants only, with consent state and
/// each track's recorded length, for any role.
@Suite struct ConsoleLiveCallsTests {
    @Test func anOperatorSeesItsTenantsLiveCallsOnly() async throws {
        let fixture = try ConsoleFixture("console-live")
        let ended = try fixture.data.catalog.registerCall(
            tenantID: fixture.tenantA.id, externalID: "CA-ended", callerNumber: nil, startedAt: Date(), actor: "test", callerKeys: nil)
        try fixture.data.catalog.endCall(id: ended.id, at: Date())
        // A recorder that has taken frames and not finished: its recordings are in state `recording`.
        let recorder = CallRecorder(
            callID: fixture.callA.id, settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: .pcm16),
            catalog: fixture.data.catalog, keyStore: fixture.data.keyStore, dataDirectory: fixture.data.directory,
            flushGroup: nil, logger: Logger(label: "test"))
        let ring = FrameRing(sampleRate: .hz8000)
        for frameIndex in 0..<50 {
            try recorder.receive(ring.next(timestampMs: Int64(frameIndex) * 20), track: .caller)
        }
        let (_, cookies) = await fixture.signIn("victor")
        let page = await fixture.get("/live", cookies: cookies)
        #expect(page.status == 200)
        let text = ConsoleFixture.text(page)
        #expect(text.contains("CA-call-a") && !text.contains("CA-call-b"), "the operator's tenant only")
        #expect(!text.contains("CA-ended"), "an ended call is not live")
        #expect(text.contains("caller: recording"), "\(text)")
        let summary = try #require(
            try fixture.data.catalog.callSummaries(
                matching: CallSummaryQuery(tenantIDs: [fixture.tenantA.id], startedFrom: nil, startedBefore: nil, after: nil, limit: 10)
            ).first { $0.id == fixture.callA.id })
        #expect(text.contains("<td>\(summary.consentState.rawValue)</td>"), "the consent state")
        try recorder.finish(atMs: 1000)
        #expect(text.contains("href=\"/live\">Refresh</a>") && !text.contains("<script") && !text.contains("http-equiv"))
        #expect(ConsoleFixture.text(await fixture.get("/calls", cookies: cookies)).contains("href=\"/live\""), "in the navigation")
    }
}
