import CallVaultArchive
import CallVaultConsole
import CallVaultModel
import CallVaultStore
import Foundation
import Testing

/// The call page's timeline key marks and the transcript that follows the audio (the script is a
/// same-origin file; its behaviour in a browser is checked by `Tests/Browser/console_browser_test.py`).
@Suite struct ConsoleCallPageScriptTests {
    @Test func aKeyThatDecidedConsentIsAKeyMarkWithoutItsDigit() async throws {
        let fixture = try ConsoleFixture("console-keys")
        _ = try fixture.data.catalog.recordConsentEvent(
            callID: fixture.callA.id,
            kind: .disclosure,
            method: .api,
            timelineMs: 500
        )
        _ = try fixture.data.catalog.recordConsentEvent(
            callID: fixture.callA.id,
            kind: .consent,
            method: .dtmf,
            timelineMs: 2000
        )
        let (_, cookies) = await fixture.signIn("victor")
        let page = ConsoleFixture.text(await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies))
        let keys = page.components(separatedBy: "<g class=\"key\">").count - 1
        #expect(keys == 1, "one key mark: the API disclosure was no key")
        #expect(page.contains("<title>key pressed at 0:02.0: consent</title>"), "\(page)")
        #expect(page.contains("<td>consent: consent</td><td>by a key (dtmf)</td>"))
    }

    @Test func theTranscriptFollowsTheAudioWithAnExternalScript() async throws {
        let fixture = try ConsoleFixture("console-follow")
        try ConsolePlaybackTests.record(fixture.callA, in: fixture)
        _ = try await ConsoleDownloadTests.transcribe(fixture.callA, in: fixture)
        let (_, cookies) = await fixture.signIn("alice")
        var page = ConsoleFixture.text(await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies))
        #expect(page.contains("<script src=\"/static/console.js\" defer></script>"))
        #expect(page.contains("data-start-ms=\"1000\" data-end-ms=\"1900\""))
        #expect(!page.contains("class=\"seek"), "no seek buttons without audio to seek")
        let csrf = await fixture.csrf(cookies)
        #expect(
            await fixture.post(
                "/calls/\(fixture.callA.id)/play",
                form: ["csrf": csrf, "reason": "x"],
                cookies: cookies
            ).status == 303
        )
        page = ConsoleFixture.text(await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies))
        #expect(page.contains("<audio class=\"call-audio\""))
        #expect(
            page.contains("<button type=\"button\" class=\"seek at\" aria-label=\"Play from 0:01.0\">0:01.0</button>")
        )
        let script = await fixture.get("/static/console.js")
        #expect(script.status == 200 && script.header("content-type") == "text/javascript; charset=utf-8")
        let source = ConsoleFixture.text(script)
        #expect(
            source.contains("audio.call-audio") && source.contains("data-start-ms") && source.contains("aria-current")
        )
        #expect(
            !ConsoleFixture.text(await fixture.get("/calls", cookies: cookies)).contains("<script"),
            "other pages load none"
        )
    }
}
