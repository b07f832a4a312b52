import CallVaultConsole
import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

/// The TOTP second factor at sign-in: an operator with one must give a code of the current step (±1);
/// a missing, wrong or replayed code is refused like a wrong password and throttled with it; the secret
/// reaches no page, log line or audit entry.
@Suite(.timeLimit(.minutes(15))) struct ConsoleTOTPTests {
    /// Gives `name` a TOTP second factor, as `callvault operator totp enable` does (sealed under the root key).
    static func enable(_ name: String, in fixture: ConsoleFixture) async throws -> TOTP {
        let totp = try TOTP.generate()
        let sealed = try fixture.data.keyStore.sealOperatorSecret(totp.secret, operatorName: name)
        try fixture.data.catalog.setOperatorTOTP(name: name, secret: .sealed(sealed), actor: "test", at: Date())
        return totp
    }

    static func now() -> Int64 { TOTP.step(at: Date()) }

    @Test func anOperatorWithTOTPNeedsACodeAndTheRightOneSignsIn() async throws {
        let log = CapturedLog()
        let fixture = try ConsoleFixture("console-totp-sign-in", logger: log.logger())
        let totp = try await Self.enable("ada", in: fixture)
        let form = ConsoleFixture.text(await fixture.get("/login"))
        #expect(form.contains("<label for=\"code\">") && form.contains("autocomplete=\"one-time-code\""))

        let (withoutCode, _) = await fixture.signIn("ada")
        #expect(withoutCode.status == 401 && ConsoleFixture.setCookies(withoutCode)["cv_session"] == nil)
        #expect(ConsoleFixture.text(withoutCode).contains("Wrong name, password or code."), "the password being right is not told")
        let (right, cookies) = await fixture.signIn("ada", code: totp.code(step: Self.now()))
        #expect(right.status == 303 && right.header("location") == "/calls")
        #expect(await fixture.get("/calls", cookies: cookies).status == 200)
        // Operators without TOTP sign in with the password alone, as before.
        #expect(await fixture.signIn("alice").response.status == 303)

        let secret = totp.base32Secret
        let entries = try await fixture.data.catalog.audit.entries()
        #expect(entries.contains { $0.action == .operatorTOTPEnabled && $0.subjectId == "ada" })
        #expect(entries.contains { $0.action == .operatorSignedIn && $0.actor == "console:ada" })
        let hex = Hex.encode(totp.secret.withUnsafeBytes { Array($0) })
        #expect(!entries.contains { "\($0.detailValues)".contains(secret) || "\($0.detailValues)".contains(hex) })
        #expect(!log.all.contains { $0.contains(secret) || $0.contains(hex) })
        #expect(!ConsoleFixture.text(right).contains(secret))
    }

    @Test func aConsoleThatRequiresTOTPOfAdminsRefusesAnAdminWithoutItAndEndsItsOpenSession() async throws {
        let fixture = try ConsoleFixture("console-totp-required")
        // Signed in while nothing required a second factor.
        let (before, open) = await fixture.signIn("ada")
        #expect(before.status == 303)
        // The same catalog served by a console that requires TOTP of administrators (a restart with the flag).
        let strict = try ConsoleFixture.console(
            over: fixture, configuration: ConsoleConfiguration(port: 0, requireTOTP: .admins))
        #expect(await ConsoleFixture.get(strict, "/calls", cookies: open).header("location") == "/login", "the open session ends")

        let refused = await ConsoleFixture.signIn(strict, "ada")
        #expect(refused.response.status == 403 && refused.cookies["cv_session"] == nil)
        let text = ConsoleFixture.text(refused.response)
        #expect(text.contains("callvault operator totp enable ada"), "says how to get one")
        #expect(await ConsoleFixture.signIn(strict, "alice").response.status == 303, "an agent is not an administrator")
        #expect(ConsoleTOTPRequirement.all.applies(to: try #require(try fixture.data.catalog.operatorCredentials(name: "alice")).account))

        let totp = try await Self.enable("ada", in: fixture)
        let (signedIn, cookies) = await ConsoleFixture.signIn(strict, "ada", code: totp.code(step: Self.now()))
        #expect(signedIn.status == 303)
        #expect(await ConsoleFixture.get(strict, "/calls", cookies: cookies).status == 200)
    }

    @Test func aSecretStoredAsItIsByAnOlderBuildStillSignsInAndSealingItKeepsTheAuthenticatorWorking() async throws {
        let fixture = try ConsoleFixture("console-totp-legacy")
        let totp = try TOTP.generate()
        let plain = totp.secret.withUnsafeBytes { Array($0) }
        try fixture.data.catalog.setOperatorTOTP(name: "ada", secret: .plain(plain), actor: "test", at: Date())
        let step = Self.now()
        #expect(await fixture.signIn("ada", code: totp.code(step: step)).response.status == 303)

        let sealed = try fixture.data.keyStore.sealOperatorSecret(totp.secret, operatorName: "ada")
        #expect(try fixture.data.catalog.sealOperatorTOTP(name: "ada", plain: plain, sealed: sealed))
        #expect(await fixture.signIn("ada", code: totp.code(step: step), from: "10.4.4.4").response.status == 401, "no replay")
        #expect(await fixture.signIn("ada", code: totp.code(step: step + 1)).response.status == 303, "the same app's next code")
        // Sealed for another operator's name, it does not open: the sign-in fails closed with the reason.
        let moved = try fixture.data.keyStore.sealOperatorSecret(totp.secret, operatorName: "alice")
        try fixture.data.catalog.setOperatorTOTP(name: "victor", secret: .sealed(moved), actor: "test", at: Date())
        let refused = await fixture.signIn("victor", code: totp.code(step: step + 1))
        #expect(refused.response.status == 503 && refused.cookies["cv_session"] == nil)
        #expect(ConsoleFixture.text(refused.response).contains("does not open"))
    }

    @Test func aCodeOneStepAwayIsAcceptedAndTwoStepsAwayIsNot() async throws {
        let fixture = try ConsoleFixture("console-totp-window")
        let totp = try await Self.enable("ada", in: fixture)
        let (stale, _) = await fixture.signIn("ada", code: totp.code(step: Self.now() - 2))
        #expect(stale.status == 401)
        // Asked again when a step began during the sign-in, so that the code is one step old when checked.
        for _ in 0..<3 {
            let step = Self.now()
            let (previous, _) = await fixture.signIn("ada", code: totp.code(step: step - 1), from: "10.3.3.3")
            guard Self.now() == step else { continue }
            #expect(previous.status == 303, "a code typed at the end of its step")
            return
        }
        Issue.record("the step changed during every try")
    }

    @Test func wrongCodesAreRefusedAndThrottledLikeWrongPasswords() async throws {
        let fixture = try ConsoleFixture("console-totp-throttle")
        let totp = try await Self.enable("ada", in: fixture)
        let right = totp.code(step: Self.now())
        let wrong = right == "000000" ? "000001" : "000000"
        for attempt in 0..<5 {
            let (response, _) = await fixture.signIn("ada", code: attempt == 4 ? "" : wrong, from: "10.9.9.9")
            #expect(response.status == 401)
            #expect(ConsoleFixture.setCookies(response)["cv_session"] == nil)
        }
        // Locked now: even the right password with the right code is refused, with Retry-After.
        let (locked, _) = await fixture.signIn("ada", code: right, from: "10.9.9.9")
        #expect(locked.status == 429 && locked.header("retry-after") != nil)
        // The right code was not spent by the locked attempt: another address signs in with it.
        let (elsewhere, _) = await fixture.signIn("ada", code: right, from: "10.1.1.1")
        #expect(elsewhere.status == 303)
        #expect(try await fixture.data.catalog.audit.entries().filter { $0.action == .operatorSignedIn }.count == 1)
    }

    @Test func aCodeIsAcceptedOnce() async throws {
        let fixture = try ConsoleFixture("console-totp-replay")
        let totp = try await Self.enable("ada", in: fixture)
        let step = Self.now()
        let (first, _) = await fixture.signIn("ada", code: totp.code(step: step))
        #expect(first.status == 303)
        let (replayed, _) = await fixture.signIn("ada", code: totp.code(step: step), from: "10.2.2.2")
        #expect(replayed.status == 401, "the same code again, even from elsewhere")
        #expect(ConsoleFixture.setCookies(replayed)["cv_session"] == nil)
        let (older, _) = await fixture.signIn("ada", code: totp.code(step: step - 1), from: "10.2.2.2")
        #expect(older.status == 401, "nor a code of an earlier step once a later one was accepted")
        #expect(try fixture.data.catalog.operatorCredentials(name: "ada")?.totp?.lastStep == step)
        // The next step's code is new, so it signs in.
        let (next, _) = await fixture.signIn("ada", code: totp.code(step: step + 1))
        #expect(next.status == 303)
    }

    @Test func disablingTOTPGoesBackToThePasswordAndIsAudited() async throws {
        let fixture = try ConsoleFixture("console-totp-disable")
        _ = try await Self.enable("ada", in: fixture)
        await #expect(throws: CatalogError.self) { _ = try await Self.enable("ada", in: fixture) }
        try fixture.data.catalog.setOperatorTOTP(name: "ada", secret: nil, actor: "test", at: Date())
        #expect(throws: CatalogError.self) {
            try fixture.data.catalog.setOperatorTOTP(name: "ada", secret: nil, actor: "test", at: Date())
        }
        #expect(try fixture.data.catalog.operatorCredentials(name: "ada")?.totp == nil)
        #expect(await fixture.signIn("ada").response.status == 303)
        #expect(try await fixture.data.catalog.audit.entries().contains { $0.action == .operatorTOTPDisabled && $0.subjectId == "ada" })
    }

    /// Over the real listener with curl, as a browser posts the form: cookie jar, CSRF field, the code.
    @Test func overARealSocketTheCodeIsRequiredAndSpentOnce() async throws {
        let fixture = try ConsoleFixture("console-totp-socket")
        let totp = try await Self.enable("ada", in: fixture)
        try await ConsoleServerTests.serving(fixture) { url in
            // Each attempt from a browser of its own (a signed-in one is sent past the form).
            func signIn(code: String?) async throws -> String {
                let jar = fixture.data.root + "/cookies-\(UUID().uuidString).txt"
                let form = try await ConsoleServerTests.curl(["-c", jar, "-b", jar, url + "/login"])
                let csrf = try #require(form.range(of: "name=\"csrf\" value=\"")).upperBound
                let token = String(form[csrf...].prefix { $0 != "\"" })
                var data = "csrf=\(token)&name=ada&password=\(ConsoleFixture.escape(ConsoleFixture.password))"
                if let code { data += "&code=\(code)" }
                return try await ConsoleServerTests.curl(["-c", jar, "-b", jar, "--data", data, url + "/login"])
            }
            #expect(try await signIn(code: nil).hasPrefix("HTTP/1.1 401"))
            let code = totp.code(step: Self.now())
            let signedIn = try await signIn(code: code)
            #expect(signedIn.hasPrefix("HTTP/1.1 303"))
            #expect(ConsoleServerTests.header("set-cookie", in: signedIn).contains { $0.hasPrefix("cv_session=") })
            #expect(try await signIn(code: code).hasPrefix("HTTP/1.1 401"), "replayed")
        }
    }
}
