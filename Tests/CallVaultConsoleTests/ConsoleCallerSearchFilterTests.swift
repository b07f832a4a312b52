import CallVaultConsole
import CallVaultModel
import CallVaultStore
import Foundation
import Testing

/// The search by caller number combined with the list's filters: the form carries them as hidden fields
/// and the calls found are kept only if the catalog's call query with those filters returns them.
@Suite struct ConsoleCallerSearchFilterTests {
    @Test func aSearchKeepsOnlyTheCallersCallsThatMatchTheListsFilters() async throws {
        let fixture = try ConsoleFixture("console-caller-search-filters")
        let denied = try ConsoleCallerSearchTests.call(
            from: ConsoleCallerSearchTests.number,
            in: fixture.tenantA,
            "CA-denied",
            fixture
        )
        let granted = try ConsoleCallerSearchTests.call(
            from: ConsoleCallerSearchTests.number,
            in: fixture.tenantA,
            "CA-granted",
            fixture
        )
        try fixture.data.catalog.recordConsentEvent(callID: denied.id, kind: .deny, method: .dtmf)
        try fixture.data.catalog.recordConsentEvent(callID: granted.id, kind: .consent, method: .dtmf)
        try fixture.data.catalog.endCall(id: granted.id)
        let (_, cookies) = await fixture.signIn("victor")
        let list = ConsoleFixture.text(await fixture.get("/calls?consent=denied", cookies: cookies))
        #expect(list.contains("<input type=\"hidden\" name=\"consent\" value=\"denied\">"), "the filter is carried")
        func search(_ extra: [String: String]) async -> String {
            var form = ["csrf": await fixture.csrf(cookies), "tenant": "", "phone": ConsoleCallerSearchTests.number]
            form.merge(extra) { $1 }
            return ConsoleFixture.text(await fixture.post("/calls", form: form, cookies: cookies))
        }
        let all = await search([:])
        #expect(all.contains(denied.id) && all.contains(granted.id))
        let onlyDenied = await search(["consent": "denied"])
        #expect(onlyDenied.contains(denied.id) && !onlyDenied.contains(granted.id))
        // The response shows the filters it applied and carries them to the next search from it, and
        // never the number typed.
        #expect(onlyDenied.contains("Only calls that match the list's filters: consent denied."))
        #expect(onlyDenied.contains("<input type=\"hidden\" name=\"consent\" value=\"denied\">"))
        #expect(onlyDenied.contains("<option value=\"denied\" selected>"))
        #expect(!onlyDenied.contains(ConsoleCallerSearchTests.number))
        let junk = await search(["consent": "nonsense", "from": "yesterday"])
        #expect(junk.contains(denied.id) && junk.contains(granted.id), "values the list does not accept are not applied")
        #expect(!junk.contains("name=\"consent\" value=\"nonsense\"") && !junk.contains("Only calls that match"))
        let onlyLive = await search(["state": "live"])
        #expect(onlyLive.contains(denied.id) && !onlyLive.contains(granted.id))
        let otherDay = await search(["from": "2001-01-01", "to": "2001-01-02"])
        #expect(!otherDay.contains(denied.id) && otherDay.contains("No call from that number"))
    }
}
