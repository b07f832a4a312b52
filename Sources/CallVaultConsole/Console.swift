public import CallVaultArchive
import CallVaultCrypto
import CallVaultModel
public import CallVaultStore
import Foundation
public import Logging

/// The operator web console: routes a request to its page, after signing in and, for every POST,
/// checking the session's CSRF token. Every page is scoped to the operator's tenants: a call, audit
/// entry or recording of any other tenant answers 404, exactly as one that does not exist.
public final class Console: Sendable {
    let catalog: any CatalogStore
    let exporter: RecordingExporter
    let transcripts: TranscriptStore
    let configuration: ConsoleConfiguration
    /// Whether the listener speaks TLS: cookies are then `Secure`.
    let tls: Bool
    let sessions: ConsoleSessions
    let throttle: LoginThrottle
    let logger: Logger

    public init(
        catalog: any CatalogStore, exporter: RecordingExporter, transcripts: TranscriptStore,
        configuration: ConsoleConfiguration = ConsoleConfiguration(), tls: Bool = false, logger: Logger
    ) {
        self.catalog = catalog
        self.exporter = exporter
        self.transcripts = transcripts
        self.configuration = configuration
        self.tls = tls
        self.logger = logger
        sessions = ConsoleSessions(
            catalog: catalog, idleTimeout: configuration.idleTimeout, playbackLifetime: configuration.playbackLifetime,
            subjectLifetime: configuration.subjectLifetime)
        throttle = LoginThrottle(
            catalog: catalog,
            rule: SignInLockout(
                failuresBeforeLockout: configuration.failuresBeforeLockout, lockout: WebhookRetryPolicy.seconds(configuration.lockout),
                maximumLockout: WebhookRetryPolicy.seconds(configuration.maximumLockout)))
    }

    /// Bodies above this are refused (413) before they are parsed: forms here are small.
    public static let maximumBodyBytes = 16 * 1024

    public func handle(_ request: ConsoleRequest) async -> ConsoleResponse {
        // HEAD is answered as GET (the listener leaves the body out).
        var request = request
        if request.method == "HEAD" { request.method = "GET" }
        let parts = request.pathParts
        switch (request.method, parts.count) {
        case ("GET", 2) where parts[0] == "static" && parts[1] == "console.css":
            return ConsoleResponse(status: 200, contentType: "text/css; charset=utf-8", body: Array(ConsoleStylesheet.css.utf8))
        case ("GET", 2) where parts[0] == "static" && parts[1] == "console.js":
            return ConsoleResponse(
                status: 200, contentType: "text/javascript; charset=utf-8", body: Array(ConsoleScript.javaScript.utf8))
        case ("GET", 1) where parts[0] == "favicon.ico":
            return ConsoleResponse(status: 404, contentType: "text/plain; charset=utf-8", body: [])
        case ("GET", 1) where parts[0] == "login":
            if case .signedIn = await authenticate(request) { return .redirect("/calls") }
            return LoginPage(console: self).form(request)
        case ("POST", 1) where parts[0] == "login":
            return await LoginPage(console: self).submit(request)
        case ("GET", _), ("POST", _):
            break
        default:
            return .problem(405, "Method not allowed", "\(request.method) is not used by the console.")
        }
        let session: ConsoleSession
        switch await authenticate(request) {
        case .signedIn(let found): session = found
        case .signedOut:
            if request.method == "POST" { return .problem(403, "Forbidden", "Sign in first.") }
            return .redirect("/login")
        case .unavailable(let message):
            return .problem(503, "Catalog unavailable", "Your session could not be checked (\(message)); try again.")
        }
        if request.method == "POST" {
            let sent = request.form["csrf"] ?? ""
            guard ConstantTime.equals(Array(sent.utf8), Array(session.csrfToken.utf8)) else {
                logger.notice("console POST refused: missing or wrong CSRF token", metadata: ["operator": "\(session.account.name)"])
                return .problem(403, "Forbidden", "The form's CSRF token is missing or wrong: reload the page and try again.", session: session)
            }
        }
        switch (request.method, parts.count) {
        case ("GET", 0): return .redirect("/calls")
        case ("POST", 1) where parts[0] == "logout":
            do { try await sessions.end(key: session.key, operatorName: session.account.name) } catch {
                return .problem(
                    503, "Catalog unavailable", "You are still signed in: the session could not be ended (\(error.message)); try again.",
                    session: session)
            }
            return LoginPage.signedOut(tls: tls)
        case ("GET", 1) where parts[0] == "calls":
            return await CallsPage(console: self, session: session).render(request)
        case ("POST", 1) where parts[0] == "calls":
            return await CallsPage(console: self, session: session).searchByCaller(request)
        case ("GET", 2) where parts[0] == "calls":
            return await CallPage(console: self, session: session).render(callID: String(parts[1]), request: request)
        case ("POST", 3) where parts[0] == "calls" && parts[2] == "play":
            return await PlaybackAction(console: self, session: session).grant(callID: String(parts[1]), request: request)
        case ("POST", 3) where parts[0] == "calls" && parts[2] == "download":
            return await DownloadAction(console: self, session: session).download(callID: String(parts[1]), request: request)
        case ("GET", 3) where parts[0] == "calls" && parts[2] == "audio.wav":
            return await PlaybackAction(console: self, session: session).audio(callID: String(parts[1]), request: request)
        case ("GET", 1) where parts[0] == "audit":
            return await AuditPage(console: self, session: session).render(request, verification: nil)
        case ("POST", 2) where parts[0] == "audit" && parts[1] == "verify":
            return await AuditPage(console: self, session: session).verify(request)
        case ("GET", 1) where parts[0] == "jobs":
            return await JobsPage(console: self, session: session).render(request)
        case ("POST", 3) where parts[0] == "jobs" && parts[2] == "retry":
            return await JobsPage(console: self, session: session).retry(jobID: String(parts[1]), request: request)
        case ("GET", 1) where parts[0] == "retention":
            return await RetentionPage(console: self, session: session).render(request)
        case ("POST", 3) where parts[0] == "recordings" && parts[2] == "hold":
            return await RecordingRetentionAction(console: self, session: session).perform(
                .hold, recordingID: String(parts[1]), request: request)
        case ("POST", 3) where parts[0] == "recordings" && parts[2] == "restrict":
            return await RecordingRetentionAction(console: self, session: session).perform(
                .restrict, recordingID: String(parts[1]), request: request)
        case ("GET", 1) where parts[0] == "tenants":
            return await TenantSettingsPage(console: self, session: session).list()
        case ("GET", 3) where parts[0] == "tenants" && parts[2] == "settings":
            return await TenantSettingsPage(console: self, session: session).render(tenantID: String(parts[1]), request: request)
        case ("POST", 3) where parts[0] == "tenants" && parts[2] == "settings":
            return await TenantSettingsPage(console: self, session: session).save(tenantID: String(parts[1]), request: request)
        case ("GET", 1) where parts[0] == "live":
            return await LiveCallsPage(console: self, session: session).render(request)
        case ("GET", 1) where parts[0] == "subjects":
            return await SubjectRequestsPage(console: self, session: session).render(request)
        case ("POST", 1) where parts[0] == "subjects":
            return await SubjectRequestsPage(console: self, session: session).lookUp(request)
        case ("POST", 2) where parts[0] == "subjects" && parts[1] == "export":
            return await SubjectRequestActions(console: self, session: session).export(request)
        case ("POST", 2) where parts[0] == "subjects" && parts[1] == "erase":
            return await SubjectRequestActions(console: self, session: session).erase(request)
        default:
            return .notFound(session: session)
        }
    }

    enum Authentication {
        case signedIn(ConsoleSession)
        case signedOut
        /// The catalog could not be asked: the session is kept for the next try.
        case unavailable(String)
    }

    /// The session of the request's cookie, with its operator read afresh from the catalog (so a
    /// removed operator is signed out at its next request).
    func authenticate(_ request: ConsoleRequest) async -> Authentication {
        guard let token = request.cookies[LoginPage.sessionCookie] else { return .signedOut }
        let live: ConsoleSessions.Live
        do {
            guard let found = try await sessions.touch(token: token) else { return .signedOut }
            live = found
        } catch {
            return .unavailable(error.message)
        }
        let credentials: OperatorCredentials?
        do { credentials = try await catalog.operatorCredentials(name: live.operatorName) } catch {
            return .unavailable(error.message)
        }
        guard let credentials else {
            // Removed: its sessions went with it (the catalog's cascade); forget what this node holds.
            sessions.forget(key: live.key)
            return .signedOut
        }
        // A session started before this console required a second factor of this operator ends here.
        if credentials.totp == nil, configuration.requireTOTP.applies(to: credentials.account) {
            sessions.forget(key: live.key)
            return .signedOut
        }
        return .signedIn(ConsoleSession(account: credentials.account, csrfToken: live.csrf, key: live.key))
    }

    /// The call with this id if the operator may see its tenant; nil otherwise (the caller answers 404
    /// whether the call is missing or another tenant's, so ids cannot be probed). Throws only when the
    /// catalog cannot answer.
    func visibleCall(_ id: String, session: ConsoleSession) async throws(CatalogError) -> CallRecord? {
        guard id.utf8.count <= 200 else { return nil }
        let call: CallRecord
        do { call = try await catalog.call(id: id, tenantID: nil) } catch {
            if error.code == .notFound { return nil }
            throw error
        }
        return session.account.role(in: call.tenantId) == nil ? nil : call
    }

    /// ``visibleCall(_:session:)`` as a response when there is none: 404, or 503 when the catalog fails.
    func visibleCallOrResponse(_ id: String, session: ConsoleSession) async -> Result<CallRecord, ConsoleFailure> {
        do {
            guard let call = try await visibleCall(id, session: session) else {
                return .failure(ConsoleFailure(response: .notFound(session: session)))
            }
            return .success(call)
        } catch {
            return .failure(ConsoleFailure(response: .problem(503, "Catalog unavailable", error.message, session: session)))
        }
    }

    /// The tenants the operator may see, by name.
    func visibleTenants(_ session: ConsoleSession) async throws(CatalogError) -> [Tenant] {
        try await catalog.tenants().filter { session.account.role(in: $0.id) != nil }
    }

    /// The audit log's actor for what an operator does in the console.
    static func actor(_ session: ConsoleSession) -> String { "console:\(session.account.name)" }
}
