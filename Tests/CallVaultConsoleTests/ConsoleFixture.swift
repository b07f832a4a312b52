import CallVaultArchive
import CallVaultConsole
import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging

/// A console over a real data directory (catalog, key store) with two tenants, a call in each, and
/// operators (alice an agent, ada an admin and victor a viewer of tenant A); requests go straight to
/// ``Console/handle(_:)`` (the listener adds only the security headers, checked over a socket in
/// ``ConsoleServerTests``).
final class ConsoleFixture {
    let data: TestDataDirectory
    let console: Console
    let tenantA: Tenant
    let tenantB: Tenant
    let callA: CallRecord
    let callB: CallRecord
    static let password = "correct horse battery staple"
    /// Cheap scrypt for tests (the production cost is ``Scrypt/Parameters/interactive``).
    static let cheap = Scrypt.Parameters(n: 1 << 10, r: 8, p: 1)

    init(
        _ label: String, tls: Bool = false, configuration: ConsoleConfiguration = ConsoleConfiguration(port: 0),
        logger: Logger = Logger(label: "test"), payloadFormat: SegmentPayloadFormat = .rawCodec
    ) throws {
        data = try TestDataDirectory(label)
        tenantA = try data.addTenant("tenant-a").tenant
        tenantB = try data.addTenant("tenant-b").tenant
        callA = try data.catalog.registerCall(
            tenantID: tenantA.id, externalID: "CA-call-a", callerNumber: nil, startedAt: Date(), actor: "test", callerKeys: nil)
        callB = try data.catalog.registerCall(
            tenantID: tenantB.id, externalID: "CA-call-b", callerNumber: nil, startedAt: Date(), actor: "test", callerKeys: nil)
        let hash = try PasswordHash(hashing: Self.password, parameters: Self.cheap).encoded
        _ = try data.catalog.addOperator(
            name: "alice", passwordHash: hash, globalAdmin: false, roles: [tenantA.id: .agent], actor: "test", at: Date())
        _ = try data.catalog.addOperator(
            name: "ada", passwordHash: hash, globalAdmin: false, roles: [tenantA.id: .admin], actor: "test", at: Date())
        _ = try data.catalog.addOperator(
            name: "victor", passwordHash: hash, globalAdmin: false, roles: [tenantA.id: .viewer], actor: "test", at: Date())
        console = Console(
            catalog: data.catalog,
            exporter: RecordingExporter(
                catalog: data.catalog, keyStore: data.keyStore, dataDirectory: data.directory, payloadFormat: payloadFormat),
            transcripts: TranscriptStore(catalog: data.catalog, keyStore: data.keyStore, dataDirectory: data.directory),
            configuration: configuration, tls: tls, logger: logger)
    }

    /// Another console on this fixture's data directory with a catalog connection of its own: a second
    /// `serve` node on the same catalog, or this one restarted with other settings.
    static func console(
        over fixture: ConsoleFixture, configuration: ConsoleConfiguration = ConsoleConfiguration(port: 0),
        busyTimeout: TimeInterval = Catalog.defaultBusyTimeout
    ) throws -> Console {
        let catalog = try Catalog(path: fixture.data.directory.catalogPath, busyTimeout: busyTimeout)
        return Console(
            catalog: catalog,
            exporter: RecordingExporter(catalog: catalog, keyStore: fixture.data.keyStore, dataDirectory: fixture.data.directory),
            transcripts: TranscriptStore(catalog: catalog, keyStore: fixture.data.keyStore, dataDirectory: fixture.data.directory),
            configuration: configuration, logger: Logger(label: "test"))
    }

    func get(_ target: String, cookies: [String: String] = [:]) async -> ConsoleResponse {
        await Self.get(console, target, cookies: cookies)
    }

    static func get(_ console: Console, _ target: String, cookies: [String: String] = [:]) async -> ConsoleResponse {
        await collected(await console.handle(ConsoleRequest(method: "GET", target: target, headers: cookieHeader(cookies))))
    }

    /// `response` with a streamed body read into `body` (a body that fails part way stays as far as it got).
    static func collected(_ response: ConsoleResponse) async -> ConsoleResponse {
        guard let stream = response.stream else { return response }
        var whole = response
        whole.stream = nil
        while let chunk = try? await stream.next() { whole.body += chunk }
        return whole
    }

    func post(_ target: String, form: [String: String], cookies: [String: String] = [:], from address: String = "10.0.0.1") async
        -> ConsoleResponse
    {
        await Self.post(console, target, form: form, cookies: cookies, from: address)
    }

    static func post(
        _ console: Console, _ target: String, form: [String: String], cookies: [String: String] = [:], from address: String = "10.0.0.1"
    ) async -> ConsoleResponse {
        let body = form.map { "\(Self.escape($0.key))=\(Self.escape($0.value))" }.joined(separator: "&")
        return await Self.collected(await console.handle(
            ConsoleRequest(
                method: "POST", target: target,
                headers: Self.cookieHeader(cookies) + [("content-type", "application/x-www-form-urlencoded")],
                body: Array(body.utf8), clientAddress: address)))
    }

    /// Signs in through the form as a browser would: GET the form, echo its CSRF token and cookie.
    /// - Parameter code: the TOTP code field, when given.
    func signIn(
        _ name: String, password: String = ConsoleFixture.password, code: String? = nil, from address: String = "10.0.0.1"
    ) async -> (response: ConsoleResponse, cookies: [String: String]) {
        await Self.signIn(console, name, password: password, code: code, from: address)
    }

    /// ``signIn(_:password:code:from:)`` on another console (``console(over:configuration:busyTimeout:)``).
    static func signIn(
        _ console: Console, _ name: String, password: String = ConsoleFixture.password, code: String? = nil,
        from address: String = "10.0.0.1"
    ) async -> (response: ConsoleResponse, cookies: [String: String]) {
        let form = await get(console, "/login")
        let loginCookie = Self.setCookies(form)["cv_login"] ?? ""
        let csrf = Self.hiddenCSRF(form) ?? ""
        var fields = ["csrf": csrf, "name": name, "password": password]
        if let code { fields["code"] = code }
        let response = await post(console, "/login", form: fields, cookies: ["cv_login": loginCookie], from: address)
        var cookies = ["cv_login": loginCookie]
        if let session = Self.setCookies(response)["cv_session"] { cookies = ["cv_session": session] }
        return (response, cookies)
    }

    /// GETs a redirect's location as a browser does: without its `#fragment`.
    func follow(_ redirect: ConsoleResponse, cookies: [String: String]) async -> ConsoleResponse {
        let location = redirect.header("location") ?? "/"
        return await get(String(location.prefix { $0 != "#" }), cookies: cookies)
    }

    /// The session's CSRF token, from a page's hidden field.
    func csrf(_ cookies: [String: String]) async -> String {
        Self.hiddenCSRF(await get("/calls", cookies: cookies)) ?? ""
    }

    static func text(_ response: ConsoleResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    static func setCookies(_ response: ConsoleResponse) -> [String: String] {
        var cookies: [String: String] = [:]
        for (name, value) in response.headers where name.lowercased() == "set-cookie" {
            let pair = value.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            cookies[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
        }
        return cookies
    }

    static func setCookieLines(_ response: ConsoleResponse) -> [String] {
        response.headers.filter { $0.name.lowercased() == "set-cookie" }.map(\.value)
    }

    static func hiddenCSRF(_ response: ConsoleResponse) -> String? {
        let page = text(response)
        guard let range = page.range(of: "name=\"csrf\" value=\"") else { return nil }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }

    static func cookieHeader(_ cookies: [String: String]) -> [(name: String, value: String)] {
        cookies.isEmpty ? [] : [("cookie", cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))]
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}
