import CallVaultModel
import CallVaultRedaction
import CallVaultStore
import Foundation

/// A tenant's recording policy for an administrator of that tenant (or a global administrator): all of
/// it read-only, and a form for what is safe to change from a browser — consent mode, disclosure, consent
/// and opt-out keys, voice and transcript retention, storage codec, transcript language, transcript
/// model (back to the run's default only), transcript redaction and the bot transcript source — saved
/// through the catalog's `updatePolicy` (what `callvault tenant set` calls: validated there, audited
/// `tenant.policy_changed` with the changed fields and the operator). A new model directory, SIP and the
/// vocabulary stay with the CLI: they name files on the server, which a browser should not choose.
/// A field the form did not send keeps its value.
/// Also `GET /tenants`, the operator's tenants with their role, linking here.
struct TenantSettingsPage {
    let console: Console
    let session: ConsoleSession

    func list() async -> ConsoleResponse {
        let tenants: [Tenant]
        do { tenants = try await console.visibleTenants(session) } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        var body = """
            <h1>Tenants</h1><table class="tenants"><caption>Your tenants</caption>
            <thead><tr><th scope="col">Tenant</th><th scope="col">Your role</th><th scope="col">Settings</th></tr></thead><tbody>
            """
        for tenant in tenants {
            let role = session.account.role(in: tenant.id) ?? .viewer
            let link =
                role == .admin
                ? "<a href=\"/tenants/\(FormEncoding.escape(tenant.id))/settings\">Settings of \(HTML.escape(tenant.name))</a>"
                : "administrators only"
            body += "<tr><td>\(HTML.escape(tenant.name))</td><td>\(role.rawValue)</td><td>\(link)</td></tr>"
        }
        body += "</tbody></table>"
        return .html(200, ConsoleLayout.page(title: "Tenants", session: session, body: body))
    }

    /// The tenant if the operator administers it; else 404 (not visible) or 403 (visible, not admin).
    private func administered(_ id: String) async -> Result<Tenant, ConsoleFailure> {
        let tenant: Tenant?
        do { tenant = try await console.visibleTenants(session).first { $0.id == id } } catch {
            return .failure(ConsoleFailure(response: .problem(503, "Catalog unavailable", error.message, session: session)))
        }
        guard let tenant else { return .failure(ConsoleFailure(response: .notFound(session: session))) }
        guard session.account.role(in: tenant.id) == .admin else {
            return .failure(
                ConsoleFailure(
                    response: .problem(
                        403, "Forbidden", "Only an administrator of this tenant may see and change its settings.", session: session)))
        }
        return .success(tenant)
    }

    func render(tenantID: String, request: ConsoleRequest, message: String? = nil, status: Int = 200) async -> ConsoleResponse {
        let tenant: Tenant
        switch await administered(tenantID) {
        case .success(let found): tenant = found
        case .failure(let failure): return failure.response
        }
        let policy = tenant.policy
        var body = "<h1>Settings of \(HTML.escape(tenant.name))</h1>"
        if let message { body += "<p class=\"error\" role=\"alert\">\(HTML.escape(message))</p>" }
        if request.query["saved"] == "1" { body += "<p class=\"ok\" role=\"status\">Policy saved (audited).</p>" }
        if request.query["saved"] == "0" { body += "<p class=\"ok\" role=\"status\">Nothing changed.</p>" }
        body += """
            <section aria-labelledby="policy-h"><h2 id="policy-h">Policy</h2>
            <p class="note">Changes apply to recordings and transcripts made from now on; existing ones keep their expiry.</p>
            <dl class="facts">
            <dt>Consent mode</dt><dd>\(policy.consentMode.rawValue)</dd>
            <dt>Disclosure required before consent</dt><dd>\(policy.requireDisclosure ? "yes" : "no")</dd>
            <dt>Consent digit</dt><dd>\(HTML.escape(policy.consentDigit.map(String.init) ?? "none"))</dd>
            <dt>Opt-out digit</dt><dd>\(HTML.escape(policy.optOutDigit.map(String.init) ?? "none"))</dd>
            <dt>Voice kept</dt><dd>\(policy.voiceDays) days</dd>
            <dt>Transcripts kept</dt><dd>\(policy.transcriptDays) days</dd>
            <dt>Storage codec</dt><dd>\(policy.codec.rawValue)</dd>
            <dt>Transcript language</dt><dd>\(HTML.escape(policy.transcriptLanguage))</dd>
            <dt>Transcript model</dt><dd>\(HTML.escape(policy.transcriptModel ?? "the run's default"))</dd>
            <dt>Transcript redaction</dt><dd>\(HTML.escape(policy.redact.listText))</dd>
            <dt>Bot transcript</dt><dd>\(policy.transcription.botTranscript.rawValue)</dd>
            <dt>Vocabulary</dt><dd>\(policy.transcription.vocabulary.count) phrases</dd>
            </dl></section>
            """
        body += form(tenant)
        return .html(status, ConsoleLayout.page(title: "Settings of \(tenant.name)", session: session, body: body))
    }

    private func form(_ tenant: Tenant) -> String {
        let policy = tenant.policy
        func option(_ value: String, selected: Bool) -> String {
            "<option value=\"\(value)\"\(selected ? " selected" : "")>\(value)</option>"
        }
        let consent = ConsentMode.allCases.map { option($0.rawValue, selected: $0 == policy.consentMode) }.joined()
        let bot = TenantTranscription.BotTranscript.allCases.map {
            option($0.rawValue, selected: $0 == policy.transcription.botTranscript)
        }.joined()
        let codecs = StorageCodec.allCases.map { option($0.rawValue, selected: $0 == policy.codec) }.joined()
        func keys(_ current: Character?) -> String {
            option("none", selected: current == nil)
                + TenantPolicy.dtmfKeys.sorted().map { option(String($0), selected: $0 == current) }.joined()
        }
        let disclosure = option("yes", selected: policy.requireDisclosure) + option("no", selected: !policy.requireDisclosure)
        // A model directory is a path on the server: chosen with the CLI; here only kept or reset.
        let model =
            option("default", selected: policy.transcriptModel == nil)
            + (policy.transcriptModel.map { "<option value=\"keep\" selected>\(HTML.escape($0))</option>" } ?? "")
        var redaction = ""
        for category in RedactionCategory.allCases {
            let name = category.policyName
            let checked = policy.redact.categories.contains(category) ? " checked" : ""
            redaction += """
                <input type="checkbox" id="s-redact-\(name)" name="redact-\(name)" value="on"\(checked)>
                <label for="s-redact-\(name)">\(name)</label>
                """
        }
        return """
            <section aria-labelledby="change-h"><h2 id="change-h">Change</h2>
            <form method="post" action="/tenants/\(FormEncoding.escape(tenant.id))/settings" class="settings">
            <input type="hidden" name="csrf" value="\(HTML.escape(session.csrfToken))">
            <label for="s-consent">Consent mode</label><select id="s-consent" name="consent">\(consent)</select>
            <label for="s-disclosure">Disclosure required before consent</label><select id="s-disclosure" name="disclosure">\(disclosure)</select>
            <label for="s-consent-digit">Consent key</label><select id="s-consent-digit" name="consentDigit">\(keys(policy.consentDigit))</select>
            <label for="s-optout-digit">Opt-out key</label><select id="s-optout-digit" name="optOutDigit">\(keys(policy.optOutDigit))</select>
            <label for="s-voice">Voice kept (days, 1 to \(TenantPolicy.maximumVoiceDays))</label>
            <input id="s-voice" name="voiceDays" type="number" min="1" max="\(TenantPolicy.maximumVoiceDays)" required value="\(policy.voiceDays)">
            <label for="s-transcript">Transcripts kept (days, at least 1)</label>
            <input id="s-transcript" name="transcriptDays" type="number" min="1" required value="\(policy.transcriptDays)">
            <label for="s-codec">Storage codec (new recordings)</label><select id="s-codec" name="codec">\(codecs)</select>
            <label for="s-language">Transcript language (en, de, … or auto)</label>
            <input id="s-language" name="language" required maxlength="4" value="\(HTML.escape(policy.transcriptLanguage))">
            <label for="s-model">Transcript model (a new directory: <code>callvault tenant set --transcript-model</code>)</label>
            <select id="s-model" name="model">\(model)</select>
            <fieldset><legend>Redact from transcripts</legend>\(redaction)</fieldset>
            <label for="s-bot">Bot transcript</label><select id="s-bot" name="botTranscript">\(bot)</select>
            <button type="submit">Save policy</button>
            </form></section>
            """
    }

    func save(tenantID: String, request: ConsoleRequest) async -> ConsoleResponse {
        let tenant: Tenant
        switch await administered(tenantID) {
        case .success(let found): tenant = found
        case .failure(let failure): return failure.response
        }
        let form = request.form
        var policy = tenant.policy
        func refuse(_ message: String) async -> ConsoleResponse {
            await render(tenantID: tenantID, request: request, message: message + " Nothing was changed.", status: 400)
        }
        guard let consent = form["consent"].flatMap(ConsentMode.init(rawValue:)) else {
            return await refuse("Choose a consent mode: opt-in, opt-out or not-required.")
        }
        guard let voiceDays = form["voiceDays"].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else {
            return await refuse("Voice retention must be a whole number of days (1 to \(TenantPolicy.maximumVoiceDays)).")
        }
        guard let transcriptDays = form["transcriptDays"].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else {
            return await refuse("Transcript retention must be a whole number of days (at least 1).")
        }
        guard let bot = form["botTranscript"].flatMap(TenantTranscription.BotTranscript.init(rawValue:)) else {
            return await refuse("Choose where the bot's transcript comes from: text, asr or both.")
        }
        // Optional fields: absent keeps the value; present must be one the form offers.
        if let text = form["disclosure"] {
            guard text == "yes" || text == "no" else { return await refuse("Disclosure required must be yes or no.") }
            policy.requireDisclosure = text == "yes"
        }
        for (field, label) in [("consentDigit", "consent key"), ("optOutDigit", "opt-out key")] {
            guard let text = form[field] else { continue }
            let key: Character?
            if text == "none" {
                key = nil
            } else if text.count == 1, let character = text.first, TenantPolicy.dtmfKeys.contains(character) {
                key = character
            } else {
                return await refuse("The \(label) must be one of 0-9, *, #, A-D or none.")
            }
            if field == "consentDigit" { policy.consentDigit = key } else { policy.optOutDigit = key }
        }
        if let text = form["codec"] {
            guard let codec = StorageCodec(rawValue: text) else {
                return await refuse("Choose a storage codec: \(StorageCodec.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            policy.codec = codec
        }
        if let text = form["model"] {
            switch text {
            case "default": policy.transcriptModel = nil
            case "keep": break
            default: return await refuse("The transcript model can be kept or set back to the run's default here; a new model directory is set with callvault tenant set --transcript-model.")
            }
        }
        policy.consentMode = consent
        policy.voiceDays = voiceDays
        policy.transcriptDays = transcriptDays
        policy.transcriptLanguage = (form["language"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        policy.redact = TenantRedaction(categories: Set(RedactionCategory.allCases.filter { form["redact-\($0.policyName)"] == "on" }))
        policy.transcription.botTranscript = bot
        guard policy != tenant.policy else { return .redirect("/tenants/\(FormEncoding.escape(tenant.id))/settings?saved=0") }
        do {
            _ = try await console.catalog.updatePolicy(ofTenant: tenant.id, to: policy, actor: Console.actor(session), at: Date())
        } catch {
            return await refuse(error.message.prefix(1).uppercased() + error.message.dropFirst() + ".")
        }
        return .redirect("/tenants/\(FormEncoding.escape(tenant.id))/settings?saved=1")
    }
}
