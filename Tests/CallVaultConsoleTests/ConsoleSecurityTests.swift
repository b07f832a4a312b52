import CallVaultConsole
import CallVaultCrypto
import CallVaultModel
import Foundation
import Testing

/// The console's security properties, without a browser: cookie flags, CSP and no-store, CSRF on every
/// POST, login throttling, tenant scoping by URL tampering, and roles.
@Suite struct ConsoleSecurityTests {
    @Test func signInSetsAStrictHttpOnlySessionCookie() async throws {
        let fixture = try ConsoleFixture("console-cookie")
        let (response, cookies) = await fixture.signIn("alice")
        #expect(response.status == 303)
        #expect(response.header("location") == "/calls")
        let line = try #require(ConsoleFixture.setCookieLines(response).first { $0.hasPrefix("cv_session=") })
        #expect(line.contains("HttpOnly"))
        #expect(line.contains("SameSite=Strict"))
        #expect(!line.contains("Secure"), "no Secure flag on a plain-HTTP console (the browser would drop the cookie)")
        #expect(!line.contains("Expires") && !line.contains("Max-Age"))
        #expect(cookies["cv_session"]?.utf8.count == 64)
        let calls = await fixture.get("/calls", cookies: cookies)
        #expect(calls.status == 200)
        #expect(ConsoleFixture.text(calls).contains("CA-call-a"))
        let again = await fixture.get("/login", cookies: cookies)
        #expect(again.status == 303 && again.header("location") == "/calls", "signed in: the form is skipped")
    }

    @Test func theSessionCookieIsSecureWhenTheConsoleSpeaksTLS() async throws {
        let fixture = try ConsoleFixture("console-cookie-tls", tls: true)
        let (response, _) = await fixture.signIn("alice")
        let line = try #require(ConsoleFixture.setCookieLines(response).first { $0.hasPrefix("cv_session=") })
        #expect(line.contains("; Secure"))
    }

    @Test func signInIsAudited() async throws {
        let fixture = try ConsoleFixture("console-audit-signin")
        _ = await fixture.signIn("alice")
        let entries = try await fixture.data.catalog.audit.entries()
        #expect(entries.contains { $0.action == .operatorSignedIn && $0.actor == "console:alice" })
    }

    @Test func withoutASessionPagesRedirectToSignInAndPostsAreRefused() async throws {
        let fixture = try ConsoleFixture("console-anon")
        let page = await fixture.get("/calls")
        #expect(page.status == 303)
        #expect(page.header("location") == "/login")
        let forged = await fixture.post("/calls/\(fixture.callA.id)/play", form: ["reason": "x"], cookies: ["cv_session": String(repeating: "a", count: 64)])
        #expect(forged.status == 403)
    }

    @Test func everyPostWithoutTheSessionsCSRFTokenIsRefused() async throws {
        let fixture = try ConsoleFixture("console-csrf")
        let (_, cookies) = await fixture.signIn("alice")
        let missing = await fixture.post("/audit/verify", form: [:], cookies: cookies)
        #expect(missing.status == 403)
        #expect(ConsoleFixture.text(missing).contains("CSRF"))
        let wrong = await fixture.post("/audit/verify", form: ["csrf": String(repeating: "0", count: 64)], cookies: cookies)
        #expect(wrong.status == 403)
        let right = await fixture.post("/audit/verify", form: ["csrf": await fixture.csrf(cookies)], cookies: cookies)
        #expect(right.status == 200)
        #expect(ConsoleFixture.text(right).contains("Chain intact"))
        // The sign-in form too (login CSRF): a POST without the form's cookie and field is refused.
        let login = await fixture.post("/login", form: ["name": "alice", "password": ConsoleFixture.password])
        #expect(login.status == 403)
    }

    @Test func wrongPasswordsAreThrottledPerAccountAndAddress() async throws {
        let fixture = try ConsoleFixture("console-throttle")
        for _ in 0..<5 {
            let (response, _) = await fixture.signIn("alice", password: "wrong password", from: "10.9.9.9")
            #expect(response.status == 401)
        }
        // Locked now: even the right password is refused, with Retry-After.
        let (locked, _) = await fixture.signIn("alice", from: "10.9.9.9")
        #expect(locked.status == 429)
        #expect(locked.header("retry-after") != nil)
        // Another address is not locked out by these guesses.
        let (elsewhere, _) = await fixture.signIn("alice", from: "10.1.1.1")
        #expect(elsewhere.status == 303)
    }

    @Test func anotherTenantsCallIsNotFoundByURL() async throws {
        let fixture = try ConsoleFixture("console-tenants")
        let (_, cookies) = await fixture.signIn("alice")
        let own = await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies)
        #expect(own.status == 200)
        let other = await fixture.get("/calls/\(fixture.callB.id)", cookies: cookies)
        #expect(other.status == 404)
        let missing = await fixture.get("/calls/no-such-call", cookies: cookies)
        #expect(missing.status == 404)
        #expect(ConsoleFixture.text(other) == ConsoleFixture.text(missing), "another tenant's call looks exactly like none")
        let csrf = await fixture.csrf(cookies)
        let play = await fixture.post("/calls/\(fixture.callB.id)/play", form: ["csrf": csrf, "reason": "tamper"], cookies: cookies)
        #expect(play.status == 404)
        let audio = await fixture.get("/calls/\(fixture.callB.id)/audio.wav", cookies: cookies)
        #expect(audio.status == 404)
        let list = ConsoleFixture.text(await fixture.get("/calls?tenant=\(fixture.tenantB.id)", cookies: cookies))
        #expect(list.contains("CA-call-a") && !list.contains("CA-call-b"), "a foreign tenant filter is ignored")
    }

    @Test func viewersCannotPlay() async throws {
        let fixture = try ConsoleFixture("console-viewer")
        let (_, cookies) = await fixture.signIn("victor")
        let csrf = await fixture.csrf(cookies)
        let play = await fixture.post("/calls/\(fixture.callA.id)/play", form: ["csrf": csrf, "reason": "curious"], cookies: cookies)
        #expect(play.status == 403)
        let page = ConsoleFixture.text(await fixture.get("/calls/\(fixture.callA.id)", cookies: cookies))
        #expect(!page.contains("/play\""), "no play form for a viewer")
    }

    @Test func signOutEndsTheSession() async throws {
        let fixture = try ConsoleFixture("console-signout")
        let (_, cookies) = await fixture.signIn("alice")
        let csrf = await fixture.csrf(cookies)
        let out = await fixture.post("/logout", form: ["csrf": csrf], cookies: cookies)
        #expect(out.status == 303)
        #expect(ConsoleFixture.setCookieLines(out).contains { $0.hasPrefix("cv_session=;") && $0.contains("Max-Age=0") })
        #expect(await fixture.get("/calls", cookies: cookies).status == 303)
    }

    @Test func idleSessionsEnd() async throws {
        let fixture = try ConsoleFixture("console-idle", configuration: ConsoleConfiguration(port: 0, idleTimeout: .milliseconds(300)))
        let (_, cookies) = await fixture.signIn("alice")
        #expect(await fixture.get("/calls", cookies: cookies).status == 200)
        try await Task.sleep(for: .milliseconds(500))
        #expect(await fixture.get("/calls", cookies: cookies).status == 303)
    }

    @Test func aRemovedOperatorIsSignedOutAtItsNextRequest() async throws {
        let fixture = try ConsoleFixture("console-removed")
        let (_, cookies) = await fixture.signIn("alice")
        try fixture.data.catalog.removeOperator(name: "alice", actor: "test", at: Date())
        #expect(await fixture.get("/calls", cookies: cookies).status == 303)
    }

    @Test func pageTextIsEscaped() async throws {
        let fixture = try ConsoleFixture("console-escape")
        _ = try fixture.data.catalog.registerCall(
            tenantID: fixture.tenantA.id, externalID: "<script>alert(1)</script>", callerNumber: nil, startedAt: Date(),
            actor: "test", callerKeys: nil)
        let (_, cookies) = await fixture.signIn("alice")
        let page = ConsoleFixture.text(await fixture.get("/calls", cookies: cookies))
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;script&gt;"))
    }
}

/// scrypt through libcrypto, and the stored password form.
@Suite struct PasswordHashTests {
    /// RFC 7914 section 12, the second vector.
    @Test func scryptMatchesRFC7914() throws {
        let output = try Scrypt.derive(
            password: Array("password".utf8), salt: Array("NaCl".utf8), parameters: .init(n: 1024, r: 8, p: 16),
            outputByteCount: 64)
        #expect(
            Hex.encode(output)
                == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
    }

    @Test func aStoredHashVerifiesOnlyItsPassword() throws {
        let hash = try PasswordHash(hashing: "s3cret-enough", parameters: ConsoleFixture.cheap)
        let parsed = try #require(PasswordHash(encoded: hash.encoded))
        #expect(parsed.verify("s3cret-enough"))
        #expect(!parsed.verify("s3cret-enougH"))
        #expect(!hash.description.contains(Hex.encode(hash.hash)), "printing a hash never shows it")
        #expect(PasswordHash(encoded: "scrypt$3$8$1$00$00") == nil)
    }
}

extension ConsoleSecurityTests {
    /// A browser asks for /favicon.ico on its own; that must not replace the sign-in form's token.
    @Test func theSignInTokenSurvivesRequestsTheBrowserMakesOnItsOwn() async throws {
        let fixture = try ConsoleFixture("console-favicon")
        let form = await fixture.get("/login")
        let cookie = try #require(ConsoleFixture.setCookies(form)["cv_login"])
        #expect(await fixture.get("/favicon.ico").status == 404)
        let again = await fixture.get("/login", cookies: ["cv_login": cookie])
        #expect(ConsoleFixture.setCookies(again)["cv_login"] == cookie)
        #expect(ConsoleFixture.hiddenCSRF(again) == cookie)
    }
}

extension ConsoleSecurityTests {
    @Test func theCallsListPagesThroughEveryCallOnceAndFiltersByDate() async throws {
        let fixture = try ConsoleFixture("console-pages", configuration: ConsoleConfiguration(port: 0, pageSize: 2))
        let day = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15
        for index in 0..<5 {
            _ = try fixture.data.catalog.registerCall(
                tenantID: fixture.tenantA.id, externalID: "CA-page-\(index)", callerNumber: nil,
                startedAt: day.addingTimeInterval(Double(index) * 3600), actor: "test", callerKeys: nil)
        }
        let (_, cookies) = await fixture.signIn("alice")
        var seen: [String] = []
        var target: String? = "/calls?from=2027-01-15&to=2027-01-15"
        var pages = 0
        while let next = target, pages < 10 {
            let page = ConsoleFixture.text(await fixture.get(next, cookies: cookies))
            seen += page.components(separatedBy: ">CA-page-").dropFirst().map { String($0.prefix { $0 != "<" }) }
            target = page.range(of: "href=\"/calls?").map { range in
                "/calls?" + page[range.upperBound...].prefix { $0 != "\"" }.replacingOccurrences(of: "&amp;", with: "&")
            }
            pages += 1
        }
        #expect(seen == ["4", "3", "2", "1", "0"], "newest first, each once, the other day's call left out")
        #expect(pages == 3)
    }

    @Test func theAuditPageShowsOnlyTheOperatorsTenants() async throws {
        let fixture = try ConsoleFixture("console-audit-scope")
        let (_, cookies) = await fixture.signIn("alice")
        let page = ConsoleFixture.text(await fixture.get("/audit", cookies: cookies))
        #expect(page.contains(fixture.callA.id) && !page.contains(fixture.callB.id))
    }
}
