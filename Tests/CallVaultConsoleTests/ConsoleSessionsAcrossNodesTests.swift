import CallVaultConsole
import CallVaultCrypto
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// Console sessions live in the catalog: two consoles on one catalog (two `serve` nodes behind a load
/// balancer, each with its own connection) share them, a console started later (a restart) keeps them,
/// and a sign-out or `operator sign-out` on one ends them on all.
@Suite(.timeLimit(.minutes(15))) struct ConsoleSessionsAcrossNodesTests {
    static func node(_ fixture: ConsoleFixture, busyTimeout: TimeInterval = Catalog.defaultBusyTimeout) throws -> Console {
        try ConsoleFixture.console(over: fixture, busyTimeout: busyTimeout)
    }

    @Test func aSessionStartedOnOneNodeWorksOnAnotherAndASignOutOnEitherEndsItOnBoth() async throws {
        let a = try ConsoleFixture("console-nodes")
        let b = try Self.node(a)
        let (signedIn, cookies) = await a.signIn("alice")
        #expect(signedIn.status == 303 && cookies["cv_session"] != nil)

        // The other node knows the session, with the same CSRF token in its forms.
        let onB = await ConsoleFixture.get(b, "/calls", cookies: cookies)
        #expect(onB.status == 200 && ConsoleFixture.text(onB).contains("alice"), "\(onB.status)")
        let csrf = try #require(ConsoleFixture.hiddenCSRF(onB))
        #expect(ConsoleFixture.hiddenCSRF(await a.get("/calls", cookies: cookies)) == csrf)
        #expect(!ConsoleFixture.text(onB).contains(try #require(cookies["cv_session"])), "the cookie's token is not in the page")

        // A node started after the sign-in (a restart) keeps it too.
        let restarted = try Self.node(a)
        #expect(await ConsoleFixture.get(restarted, "/calls", cookies: cookies).status == 200)

        // Signed out on B: A refuses the cookie at once, and the sign-out is audited once.
        let out = await ConsoleFixture.post(b, "/logout", form: ["csrf": csrf], cookies: cookies)
        #expect(out.status == 303)
        #expect(await a.get("/calls", cookies: cookies).header("location") == "/login")
        #expect(await ConsoleFixture.get(restarted, "/calls", cookies: cookies).header("location") == "/login")
        let actions = try a.data.catalog.auditLog.entries().map(\.action)
        #expect(actions.filter { $0 == .operatorSignedIn }.count == 1 && actions.filter { $0 == .operatorSignedOut }.count == 1)
        let signedOut = try #require(try a.data.catalog.auditLog.entries().last)
        #expect(signedOut.actor == "console:alice" && signedOut.subjectId == "alice")
    }

    @Test func anOperatorsSessionsEndOnEveryNodeWhenTheyAreSignedOutFromTheCatalog() async throws {
        let a = try ConsoleFixture("console-nodes-all")
        let b = try Self.node(a)
        let (_, first) = await a.signIn("alice")
        let (_, second) = await a.signIn("alice", from: "10.0.0.9")
        let (_, other) = await a.signIn("ada")
        #expect(await ConsoleFixture.get(b, "/calls", cookies: first).status == 200)
        #expect(await ConsoleFixture.get(b, "/calls", cookies: second).status == 200)

        // What `callvault operator sign-out alice` does.
        #expect(try a.data.catalog.endConsoleSessions(id: nil, operatorName: "alice", actor: "cli", at: Date()) == 2)
        for cookies in [first, second] {
            #expect(await a.get("/calls", cookies: cookies).header("location") == "/login")
            #expect(await ConsoleFixture.get(b, "/calls", cookies: cookies).header("location") == "/login")
        }
        #expect(await ConsoleFixture.get(b, "/calls", cookies: other).status == 200, "another operator's session is spared")
        // Signing in again works, on either node.
        let (again, fresh) = await a.signIn("alice")
        let freshOnB = await ConsoleFixture.get(b, "/calls", cookies: fresh)
        #expect(again.status == 303 && freshOnB.status == 200)
    }

    @Test func aCatalogThatCannotBeWrittenRefusesTheSignInRatherThanStartAnUnauditedSession() async throws {
        let a = try ConsoleFixture("console-nodes-locked")
        let b = try Self.node(a, busyTimeout: 0.5)
        func signIn() async -> ConsoleResponse { await ConsoleFixture.signIn(b, "alice").response }
        // Another connection holds the catalog's write lock past the busy timeout.
        let lock = try CatalogWriteLock(path: a.data.directory.catalogPath)
        let refused = await signIn()
        #expect(refused.status == 503 && ConsoleFixture.setCookies(refused)["cv_session"] == nil, "\(refused.status)")
        #expect(ConsoleFixture.text(refused).contains("sign-in was refused"))
        try lock.release()
        #expect(!(try a.data.catalog.auditLog.entries().contains { $0.action == .operatorSignedIn }))
        let signedIn = await signIn()
        let cookie = try #require(ConsoleFixture.setCookies(signedIn)["cv_session"])
        let page = await a.get("/calls", cookies: ["cv_session": cookie])
        #expect(signedIn.status == 303 && page.status == 200)
    }

    /// A grant made on one node plays on another: its player's requests may reach either. The other node
    /// opens the call itself, audited there with the grant's reasons (a restricted recording's override
    /// included); another session, or the grant after its session ended, plays nowhere.
    @Test func aPlaybackGrantedOnOneNodePlaysOnAnotherWithItsOwnAuditedDecryption() async throws {
        let a = try ConsoleFixture("console-nodes-play")
        try ConsolePlaybackTests.record(a.callA, in: a)
        for recording in try a.data.catalog.recordings(inCalls: [a.callA.id]) {
            try a.data.catalog.setRestricted(recordingID: recording.id, true, reason: "subject objects", actor: "test", at: Date())
        }
        let b = try Self.node(a)
        let (_, cookies) = await a.signIn("alice")
        let target = "/calls/\(a.callA.id)/audio.wav"
        #expect(await ConsoleFixture.get(b, target, cookies: cookies).status == 404, "no grant yet")
        let csrf = await a.csrf(cookies)
        let granted = await a.post(
            "/calls/\(a.callA.id)/play", form: ["csrf": csrf, "reason": "ticket 88", "override": "court order 5"], cookies: cookies)
        #expect(granted.status == 303)
        #expect(try a.data.catalog.auditLog.entries().filter { $0.action == .recordingDecrypted }.count == 2, "node A: both tracks")

        // The call page on B shows the player; B's audio is the same WAV as A's.
        #expect(ConsoleFixture.text(await ConsoleFixture.get(b, "/calls/\(a.callA.id)", cookies: cookies)).contains("<audio"))
        let onA = await a.get(target, cookies: cookies)
        let onB = await ConsoleFixture.get(b, target, cookies: cookies)
        #expect(onA.status == 200 && onB.status == 200 && onA.body == onB.body && onB.body.count > 44)
        let decrypted = try a.data.catalog.auditLog.entries().filter { $0.action == .recordingDecrypted }
        #expect(decrypted.count == 4, "node B opened both tracks itself")
        #expect(decrypted.allSatisfy { $0.actor == "console:alice" && $0.detailValues["reason"] == "ticket 88" })
        let overrides = try a.data.catalog.auditLog.entries().filter { $0.action == .restrictionOverridden }
        #expect(overrides.count == 4 && overrides.allSatisfy { $0.detailValues.values.contains("court order 5") }, "\(overrides.map(\.details))")
        // Range requests on B reuse what B opened: no new entries.
        let range = await ConsoleFixture.collected(await b.handle(
            ConsoleRequest(method: "GET", target: target, headers: ConsoleFixture.cookieHeader(cookies) + [("range", "bytes=0-43")])))
        #expect(range.status == 206 && range.body == Array(onA.body.prefix(44)))
        #expect(try a.data.catalog.auditLog.entries().filter { $0.action == .recordingDecrypted }.count == 4)

        // Another session (even the same operator's) has no grant on either node.
        let (_, other) = await a.signIn("alice", from: "10.7.7.7")
        #expect(await ConsoleFixture.get(b, target, cookies: other).status == 404)
        // Signed out: the grant goes with the session, on every node (a fresh node has nothing cached).
        #expect(await ConsoleFixture.post(b, "/logout", form: ["csrf": csrf], cookies: cookies).status == 303)
        let c = try Self.node(a)
        #expect(await ConsoleFixture.get(c, target, cookies: cookies).header("location") == "/login")
        #expect(try a.data.catalog.consolePlayback(
            sessionID: Digest.sha256Hex(Array(try #require(cookies["cv_session"]).utf8)), callID: a.callA.id, at: Date(),
            extendTo: Date()) == nil)
    }

    /// Guesses spread over two nodes count together: the lockout one node sets holds on the other, and a
    /// success on either clears it.
    @Test func wrongPasswordsOnTwoNodesCountTogether() async throws {
        let a = try ConsoleFixture("console-nodes-throttle")
        let b = try Self.node(a)
        for attempt in 0..<5 {
            let node = attempt.isMultiple(of: 2) ? a.console : b
            #expect(await ConsoleFixture.signIn(node, "alice", password: "wrong password", from: "10.9.9.9").response.status == 401)
        }
        let lockedOnA = await a.signIn("alice", from: "10.9.9.9")
        let lockedOnB = await ConsoleFixture.signIn(b, "alice", from: "10.9.9.9")
        #expect(lockedOnA.response.status == 429 && lockedOnB.response.status == 429)
        #expect(Int(lockedOnB.response.header("retry-after") ?? "") ?? 0 >= 1)
        #expect(await ConsoleFixture.signIn(b, "alice", from: "10.1.1.1").response.status == 303, "another address")
    }
}
