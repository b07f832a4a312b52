import CallVaultConsole
import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

/// The calls page's search by caller number: any role, by the tenant's keyed hash (the subject lookup),
/// on the POST's own response; only the operator's tenants; the number in no URL, page, log or audit entry.
@Suite struct ConsoleCallerSearchTests {
    static let number = "+1 415 555 0123"
    static let secrets = ["555 0123", "5550123", "14155550123"]

    static func leaks(_ text: String) -> Bool { secrets.contains { text.contains($0) } }

    /// A call from ``number`` in `tenant` (hashed under that tenant's caller key).
    static func call(from number: String, in tenant: Tenant, _ externalID: String, _ fixture: ConsoleFixture) throws -> CallRecord {
        try fixture.data.catalog.registerCall(
            tenantID: tenant.id, externalID: externalID, callerNumber: number, startedAt: Date(), actor: "test",
            callerKeys: try fixture.data.keyStore.callerKeys(tenantID: tenant.id))
    }

    static func search(
        _ fixture: ConsoleFixture, cookies: [String: String], phone: String = number, tenant: String = ""
    ) async -> ConsoleResponse {
        await fixture.post("/calls", form: ["csrf": await fixture.csrf(cookies), "tenant": tenant, "phone": phone], cookies: cookies)
    }

    @Test func aViewerFindsTheCallersCallsInItsTenantOnly() async throws {
        let log = CapturedLog()
        let fixture = try ConsoleFixture("console-caller-search", logger: log.logger())
        let fromA = try Self.call(from: Self.number, in: fixture.tenantA, "CA-caller-a", fixture)
        let fromB = try Self.call(from: Self.number, in: fixture.tenantB, "CA-caller-b", fixture)
        let otherA = try Self.call(from: "+1 415 555 0199", in: fixture.tenantA, "CA-other-a", fixture)
        let (_, cookies) = await fixture.signIn("victor")
        let list = ConsoleFixture.text(await fixture.get("/calls", cookies: cookies))
        #expect(list.contains("<form method=\"post\" action=\"/calls\"") && list.contains("<label for=\"c-phone\">"))

        let found = await Self.search(fixture, cookies: cookies)
        let page = ConsoleFixture.text(found)
        #expect(found.status == 200, "\(page)")
        #expect(found.header("location") == nil, "answered on the POST itself, not by a redirect with a URL")
        #expect(page.contains("href=\"/calls/\(fromA.id)\""))
        #expect(!page.contains(fromB.id), "tenant B's call from the same number is not shown")
        #expect(!page.contains(otherA.id) && !page.contains("href=\"/calls/\(fixture.callA.id)\""), "only that caller's calls")
        #expect(page.contains("1 call(s)"))
        #expect(!Self.leaks(page), "the number is not echoed")
        let inTenant = ConsoleFixture.text(await Self.search(fixture, cookies: cookies, tenant: fixture.tenantA.id))
        #expect(inTenant.contains(fromA.id) && !inTenant.contains(fromB.id))

        // Another tenant chosen by tampering with the form: as if it did not exist.
        let tampered = await Self.search(fixture, cookies: cookies, tenant: fixture.tenantB.id)
        #expect(tampered.status == 404 && !ConsoleFixture.text(tampered).contains(fromB.id))
        let none = ConsoleFixture.text(await Self.search(fixture, cookies: cookies, phone: "+1 415 555 0100"))
        #expect(none.contains("No call from that number"))
        let bad = await Self.search(fixture, cookies: cookies, phone: "not a number")
        #expect(bad.status == 400)
        let empty = await Self.search(fixture, cookies: cookies, phone: " ")
        #expect(empty.status == 400)

        let forged = await fixture.post("/calls", form: ["tenant": "", "phone": Self.number], cookies: cookies)
        #expect(forged.status == 403, "no CSRF token")
        #expect(!log.all.contains { Self.leaks($0) })
        #expect(try await fixture.data.catalog.audit.entries().allSatisfy { !Self.leaks("\($0.detailValues)") })
    }

    @Test func aGlobalAdministratorSearchesEveryTenantEachByItsOwnKey() async throws {
        let fixture = try ConsoleFixture("console-caller-search-global")
        let fromA = try Self.call(from: Self.number, in: fixture.tenantA, "CA-caller-a", fixture)
        let fromB = try Self.call(from: Self.number, in: fixture.tenantB, "CA-caller-b", fixture)
        let hash = try PasswordHash(hashing: ConsoleFixture.password, parameters: ConsoleFixture.cheap).encoded
        _ = try fixture.data.catalog.addOperator(
            name: "gina", passwordHash: hash, globalAdmin: true, roles: [:], actor: "test", at: Date())
        let (_, cookies) = await fixture.signIn("gina")
        let all = ConsoleFixture.text(await Self.search(fixture, cookies: cookies))
        #expect(all.contains(fromA.id) && all.contains(fromB.id) && all.contains("2 call(s)"))
        let onlyB = ConsoleFixture.text(await Self.search(fixture, cookies: cookies, tenant: fixture.tenantB.id))
        #expect(onlyB.contains(fromB.id) && !onlyB.contains(fromA.id))
    }
}
