import CallVaultConsole
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
}
