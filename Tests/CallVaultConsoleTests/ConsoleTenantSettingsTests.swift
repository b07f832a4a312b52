import CallVaultConsole
import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import Foundation
import Testing

/// The tenant settings page: the policy for an administrator of the tenant (or a global administrator),
/// changes through the catalog's `updatePolicy` audited with the operator, refusals shown on the page
/// with nothing changed, and 403/404 for everyone else.
@Suite struct ConsoleTenantSettingsTests {
    static let change = [
        "consent": "opt-out", "voiceDays": "30", "transcriptDays": "200", "language": "DE", "redact-pci": "on",
        "redact-contact": "on", "botTranscript": "both",
    ]

    static func policyChanges(_ fixture: ConsoleFixture) async throws -> [AuditEntry] {
        try await fixture.data.catalog.audit.entries().filter { $0.action == .tenantPolicyChanged }
    }

    @Test func anAdminSeesThePolicyAndChangesTheSafeSubsetAudited() async throws {
        let fixture = try ConsoleFixture("console-settings-change")
        let (_, cookies) = await fixture.signIn("ada")
        let tenants = ConsoleFixture.text(await fixture.get("/tenants", cookies: cookies))
        #expect(tenants.contains("href=\"/tenants/\(fixture.tenantA.id)/settings\"") && !tenants.contains(fixture.tenantB.id))
        #expect(tenants.contains("href=\"/tenants\""), "in the navigation")
        let page = await fixture.get("/tenants/\(fixture.tenantA.id)/settings", cookies: cookies)
        #expect(page.status == 200)
        let text = ConsoleFixture.text(page)
        for shown in ["<dd>opt-in</dd>", "<dd>90 days</dd>", "<dd>365 days</dd>", "<dd>native</dd>", "<dd>0 phrases</dd>"] {
            #expect(text.contains(shown), "\(shown)")
        }
        #expect(text.contains("<label for=\"s-voice\">") && text.contains("id=\"s-voice\""))
        let saved = await fixture.post(
            "/tenants/\(fixture.tenantA.id)/settings", form: Self.change.merging(["csrf": await fixture.csrf(cookies)]) { $1 },
            cookies: cookies)
        #expect(saved.status == 303, "\(ConsoleFixture.text(saved))")
        let policy = try fixture.data.catalog.tenant(id: fixture.tenantA.id).policy
        #expect(policy.consentMode == .optOut && policy.voiceDays == 30 && policy.transcriptDays == 200)
        #expect(policy.transcriptLanguage == "de" && policy.redact.listText == "pci,contact")
        #expect(policy.transcription.botTranscript == .both && policy.codec == .native, "the rest is unchanged")
        let entries = try await Self.policyChanges(fixture)
        #expect(entries.count == 1 && entries[0].actor == "console:ada" && entries[0].subjectId == fixture.tenantA.id)
        #expect(entries[0].detailValues["changed"]?.contains("voiceDays") == true)
        #expect(ConsoleFixture.text(await fixture.follow(saved, cookies: cookies)).contains("Policy saved (audited)."))
        // The same values again change nothing and audit nothing.
        let same = await fixture.post(
            "/tenants/\(fixture.tenantA.id)/settings", form: Self.change.merging(["csrf": await fixture.csrf(cookies)]) { $1 },
            cookies: cookies)
        let changes = try await Self.policyChanges(fixture)
        #expect(same.status == 303 && changes.count == 1)
    }

    @Test func refusedValuesAreShownOnThePageAndChangeNothing() async throws {
        let fixture = try ConsoleFixture("console-settings-refused")
        let (_, cookies) = await fixture.signIn("ada")
        let csrf = await fixture.csrf(cookies)
        let cases = [
            (["voiceDays": "91"], "voice retention of 91 days is refused: the limit is 90 days"),
            (["voiceDays": "0"], "voice retention must be at least 1 day"),
            (["voiceDays": "ninety"], "Voice retention must be a whole number of days"),
            (["transcriptDays": "0"], "transcript retention must be at least 1 day"),
            (["language": "english"], "the transcript language must be a 2 or 3 letter code"),
            (["consent": "maybe"], "Choose a consent mode"),
            (["botTranscript": "tts"], "Choose where the bot&#39;s transcript comes from"),
            (["codec": "mp3"], "Choose a storage codec"),
            (["consentDigit": "12"], "The consent key must be one of"),
            (["consentDigit": "1", "optOutDigit": "1"], "the consent digit and the opt-out digit must differ"),
            (["disclosure": "maybe"], "Disclosure required must be yes or no"),
            (["model": "/etc"], "a new model directory is set with callvault tenant set"),
        ]
        for (fields, message) in cases {
            var form = Self.change.merging(fields) { $1 }
            form["csrf"] = csrf
            let refused = await fixture.post("/tenants/\(fixture.tenantA.id)/settings", form: form, cookies: cookies)
            let text = ConsoleFixture.text(refused)
            #expect(refused.status == 400, "\(fields)")
            #expect(text.lowercased().contains(message.lowercased()) && text.contains("Nothing was changed."), "\(fields)")
        }
        #expect(try fixture.data.catalog.tenant(id: fixture.tenantA.id).policy == TenantPolicy())
        #expect(try await Self.policyChanges(fixture).isEmpty)
    }

    /// The consent keys, disclosure, codec and the model's reset: the rest of the policy the issue names.
    @Test func anAdminChangesKeysDisclosureCodecAndResetsTheModel() async throws {
        let fixture = try ConsoleFixture("console-settings-more")
        var start = try fixture.data.catalog.tenant(id: fixture.tenantA.id).policy
        start.transcriptModel = "/srv/models/whisper-small"
        _ = try fixture.data.catalog.updatePolicy(ofTenant: fixture.tenantA.id, to: start, actor: "test", at: Date())
        let (_, cookies) = await fixture.signIn("ada")
        let page = ConsoleFixture.text(await fixture.get("/tenants/\(fixture.tenantA.id)/settings", cookies: cookies))
        for control in ["s-disclosure", "s-consent-digit", "s-optout-digit", "s-codec", "s-model"] {
            #expect(page.contains("<label for=\"\(control)\">") && page.contains("id=\"\(control)\""), "\(control) labelled")
        }
        #expect(page.contains("<option value=\"keep\" selected>/srv/models/whisper-small</option>"))
        // Kept as it is when the form says keep.
        var form = Self.change.merging(["csrf": await fixture.csrf(cookies), "model": "keep"]) { $1 }
        #expect(await fixture.post("/tenants/\(fixture.tenantA.id)/settings", form: form, cookies: cookies).status == 303)
        #expect(try fixture.data.catalog.tenant(id: fixture.tenantA.id).policy.transcriptModel == "/srv/models/whisper-small")
        form.merge(["disclosure": "yes", "consentDigit": "5", "optOutDigit": "#", "codec": "opus", "model": "default"]) { $1 }
        let saved = await fixture.post("/tenants/\(fixture.tenantA.id)/settings", form: form, cookies: cookies)
        #expect(saved.status == 303, "\(ConsoleFixture.text(saved))")
        let policy = try fixture.data.catalog.tenant(id: fixture.tenantA.id).policy
        #expect(policy.requireDisclosure && policy.consentDigit == "5" && policy.optOutDigit == "#")
        #expect(policy.codec == .opus && policy.transcriptModel == nil)
        let changed = try await Self.policyChanges(fixture).last?.detailValues["changed"] ?? ""
        for field in ["codec", "transcriptModel"] { #expect(changed.contains(field), "\(field) in \(changed)") }
        // No key: the opt-out key removed.
        form["optOutDigit"] = "none"
        #expect(await fixture.post("/tenants/\(fixture.tenantA.id)/settings", form: form, cookies: cookies).status == 303)
        #expect(try fixture.data.catalog.tenant(id: fixture.tenantA.id).policy.optOutDigit == nil)
    }

    @Test func othersAreRefusedAndAnotherTenantIsNotFound() async throws {
        let fixture = try ConsoleFixture("console-settings-scope")
        let (_, agent) = await fixture.signIn("alice")
        let settings = "/tenants/\(fixture.tenantA.id)/settings"
        #expect(await fixture.get(settings, cookies: agent).status == 403)
        #expect(!ConsoleFixture.text(await fixture.get("/tenants", cookies: agent)).contains("href=\"\(settings)\""))
        let forged = await fixture.post(settings, form: Self.change.merging(["csrf": await fixture.csrf(agent)]) { $1 }, cookies: agent)
        #expect(forged.status == 403)
        let (_, admin) = await fixture.signIn("ada")
        #expect(await fixture.post(settings, form: Self.change, cookies: admin).status == 403, "no CSRF token")
        let csrf = await fixture.csrf(admin)
        let foreign = await fixture.get("/tenants/\(fixture.tenantB.id)/settings", cookies: admin)
        let none = await fixture.get("/tenants/no-such-tenant/settings", cookies: admin)
        #expect(foreign.status == 404 && none.status == 404)
        #expect(ConsoleFixture.text(foreign) == ConsoleFixture.text(none))
        let foreignPost = await fixture.post(
            "/tenants/\(fixture.tenantB.id)/settings", form: Self.change.merging(["csrf": csrf]) { $1 }, cookies: admin)
        #expect(foreignPost.status == 404)
        #expect(try fixture.data.catalog.tenant(id: fixture.tenantA.id).policy == TenantPolicy())
        #expect(try fixture.data.catalog.tenant(id: fixture.tenantB.id).policy == TenantPolicy())
        #expect(try await Self.policyChanges(fixture).isEmpty)
    }

    @Test func aGlobalAdminChangesAnyTenant() async throws {
        let fixture = try ConsoleFixture("console-settings-global")
        let hash = try PasswordHash(hashing: ConsoleFixture.password, parameters: ConsoleFixture.cheap).encoded
        _ = try fixture.data.catalog.addOperator(
            name: "gina", passwordHash: hash, globalAdmin: true, roles: [:], actor: "test", at: Date())
        let (_, cookies) = await fixture.signIn("gina")
        #expect(await fixture.get("/tenants/\(fixture.tenantB.id)/settings", cookies: cookies).status == 200)
        var form = Self.change
        form["csrf"] = await fixture.csrf(cookies)
        #expect(await fixture.post("/tenants/\(fixture.tenantB.id)/settings", form: form, cookies: cookies).status == 303)
        #expect(try fixture.data.catalog.tenant(id: fixture.tenantB.id).policy.voiceDays == 30)
        #expect(try await Self.policyChanges(fixture).map(\.actor) == ["console:gina"])
    }
}
