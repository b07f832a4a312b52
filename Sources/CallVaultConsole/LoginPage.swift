import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import Foundation

/// Sign-in and sign-out. The form is protected against login CSRF by a double-submit token (a cookie
/// and a hidden field that must match); an operator with a TOTP second factor must also give a code of
/// its authenticator app (RFC 6238, ±1 step of 30 s, each step accepted once); wrong passwords and
/// wrong or replayed codes are throttled alike per account and address (``LoginThrottle``); a success
/// starts a session whose cookie is HttpOnly, SameSite=Strict, and Secure when the console speaks TLS,
/// and is audited `operator.signed_in`.
struct LoginPage {
    static let sessionCookie = "cv_session"
    static let loginCookie = "cv_login"

    let console: Console

    func form(_ request: ConsoleRequest, message: String? = nil, status: Int = 200, name: String = "") -> ConsoleResponse {
        // The browser's token is kept while it has one: another tab, or a request the browser makes on
        // its own (a favicon redirected here), must not swap it under a form already shown.
        let kept = request.cookies[Self.loginCookie].flatMap { $0.utf8.count == 64 && Hex.decode($0) != nil ? $0 : nil }
        let token = kept ?? (try? SecureRandom.bytes(32)).map { Hex.encode($0) } ?? ""
        var body = "<h1>Sign in</h1>"
        if let message { body += "<p class=\"error\" role=\"alert\">\(HTML.escape(message))</p>" }
        body += """
            <form method="post" action="/login" class="login">
            <input type="hidden" name="csrf" value="\(token)">
            <label for="name">Operator name</label>
            <input id="name" name="name" autocomplete="username" required maxlength="64" value="\(HTML.escape(name))" autofocus>
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
            <label for="code">Code from your authenticator app (if your account has one)</label>
            <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6">
            <button type="submit">Sign in</button>
            </form>
            """
        var response = ConsoleResponse.html(status, ConsoleLayout.page(title: "Sign in", session: nil, body: body))
        response.add(header: "set-cookie", Self.cookie(Self.loginCookie, token, path: "/login", tls: console.tls))
        return response
    }

    func submit(_ request: ConsoleRequest) async -> ConsoleResponse {
        let fields = request.form
        let sent = fields["csrf"] ?? ""
        let expected = request.cookies[Self.loginCookie] ?? ""
        guard !expected.isEmpty, ConstantTime.equals(Array(sent.utf8), Array(expected.utf8)) else {
            return .problem(403, "Forbidden", "The sign-in form's CSRF token is missing or wrong: reload the page and try again.")
        }
        let name = fields["name"] ?? ""
        let password = fields["password"] ?? ""
        let address = request.clientAddress
        let locked: Duration?
        do { locked = try await console.throttle.wait(name: name, address: address) } catch {
            return .problem(503, "Unavailable", "Sign-in cannot be checked now (\(error.message)); try again.")
        }
        if let wait = locked {
            let seconds = max(1, Int(wait.components.seconds))
            var response = form(request, message: "Too many wrong passwords: try again in \(seconds) s.", status: 429, name: name)
            response.add(header: "retry-after", String(seconds))
            return response
        }
        let credentials = try? await console.catalog.operatorCredentials(name: name)
        // An unknown name costs the same scrypt as a known one, so timing does not tell names apart.
        let stored = credentials.flatMap { PasswordHash(encoded: $0.passwordHash) } ?? Self.decoy
        let matches = stored.verify(password) && credentials != nil
        // The same answer for a wrong password as for a missing, wrong or replayed code, so a guesser does
        // not learn that the password was right.
        let refused = "Wrong name, password or code."
        guard matches, let credentials else {
            await recordFailure(name: name, address: address)
            console.logger.notice("console sign-in refused", metadata: ["address": "\(address)"])
            return form(request, message: refused, status: 401, name: name)
        }
        let account = credentials.account
        if credentials.totp == nil, console.configuration.requireTOTP.applies(to: account) {
            // Told only after the right password, and not counted as a failure: the operator can act on it.
            console.logger.notice("console sign-in refused: no second factor", metadata: ["address": "\(address)"])
            return form(request, message: Self.totpNeeded(account.name), status: 403, name: name)
        }
        if let totp = credentials.totp {
            switch await secondFactor(totp, code: fields["code"] ?? "", operatorName: account.name) {
            case .accepted: break
            case .refused:
                await recordFailure(name: name, address: address)
                console.logger.notice("console sign-in refused: code", metadata: ["address": "\(address)"])
                return form(request, message: refused, status: 401, name: name)
            case .unavailable(let message):
                return .problem(503, "Unavailable", "The code could not be checked (\(message)); try again.")
            }
        }
        do { try await console.throttle.recordSuccess(name: name, address: address) } catch {
            console.logger.warning("console sign-in failures not cleared", metadata: ["error": "\(error.message)"])
        }
        // The session's row and its `operator.signed_in` entry commit together, or neither does.
        let started: (token: String, csrf: String)
        do { started = try await console.sessions.start(operatorName: account.name, details: ["address": address]) } catch {
            return .problem(503, "Unavailable", "No session could be started, so the sign-in was refused (\(error.message)); try again.")
        }
        var response = ConsoleResponse.redirect("/calls")
        response.add(header: "set-cookie", Self.cookie(Self.sessionCookie, started.token, path: "/", tls: console.tls))
        response.add(header: "set-cookie", Self.cookie(Self.loginCookie, "", path: "/login", tls: console.tls, expire: true))
        return response
    }

    /// What an operator without the second factor this console requires is told.
    static func totpNeeded(_ name: String) -> String {
        "This console requires a second factor for your account: ask an administrator to run "
            + "`callvault operator totp enable \(name)`, add the secret to your authenticator app, then sign in with its code."
    }

    /// Counts a failed sign-in for the throttle; a catalog that cannot take it is logged, not fatal.
    private func recordFailure(name: String, address: String) async {
        do { try await console.throttle.recordFailure(name: name, address: address) } catch {
            console.logger.warning("console sign-in failure not counted", metadata: ["error": "\(error.message)"])
        }
    }

    enum SecondFactor {
        case accepted
        case refused
        case unavailable(String)
    }

    /// Checks a TOTP code: one of the steps around now (±1), and later than the last step accepted for
    /// this operator, which it then becomes (in the catalog, atomically: a code is accepted once, even
    /// by two consoles at the same moment).
    private func secondFactor(_ stored: OperatorTOTP, code: String, operatorName: String) async -> SecondFactor {
        let code = code.filter { $0 != " " }
        let secret: SecretKey
        switch stored.secret {
        case .sealed(let sealed):
            do { secret = try console.exporter.keyStore.openOperatorSecret(sealed, operatorName: operatorName) } catch {
                return .unavailable(error.message)
            }
        case .plain(let bytes):
            do { secret = try SecretKey(copying: bytes) } catch { return .unavailable(error.message) }
        }
        guard let step = TOTP(secret: secret).matchingStep(code, around: TOTP.step(at: Date())) else { return .refused }
        if let last = stored.lastStep, step <= last { return .refused }
        do {
            return try await console.catalog.acceptOperatorTOTPStep(name: operatorName, step: step) ? .accepted : .refused
        } catch {
            return .unavailable(error.message)
        }
    }

    static func signedOut(tls: Bool) -> ConsoleResponse {
        var response = ConsoleResponse.redirect("/login")
        response.add(header: "set-cookie", cookie(sessionCookie, "", path: "/", tls: tls, expire: true))
        return response
    }

    /// A cookie that scripts cannot read, that no other site's request carries, and that only HTTPS
    /// carries when the console speaks TLS. No `Expires`: it dies with the browser.
    static func cookie(_ name: String, _ value: String, path: String, tls: Bool, expire: Bool = false) -> String {
        var cookie = "\(name)=\(value); Path=\(path); HttpOnly; SameSite=Strict"
        if tls { cookie += "; Secure" }
        if expire { cookie += "; Max-Age=0" }
        return cookie
    }

    /// A hash of a random password, checked against when the name is unknown.
    static let decoy: PasswordHash = {
        (try? PasswordHash(hashing: Hex.encode((try? SecureRandom.bytes(16)) ?? [])))
            ?? PasswordHash(encoded: "scrypt$32768$8$1$00000000000000000000000000000000$00000000000000000000000000000000")!
    }()
}
