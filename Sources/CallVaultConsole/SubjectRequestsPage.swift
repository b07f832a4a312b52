import CallVaultModel
import CallVaultStore
import Foundation

/// Data-subject requests for an administrator of a tenant (or a global administrator): a caller's
/// number typed into a POST form finds what the tenant holds about that caller — the calls found by the
/// tenant's keyed phone hash, the lookup `callvault subject export` and `erase` use — and offers the
/// export and the erasure (``SubjectRequestActions``).
///
/// The number is never put in a URL, a log line, the audit log or the page (not even back into the
/// form field): it stays in the session's memory for ``ConsoleConfiguration/subjectLifetime`` so that
/// export and erasure need not send it again.
struct SubjectRequestsPage {
    let console: Console
    let session: ConsoleSession

    /// What a tenant holds about one caller.
    struct Findings {
        var tenant: Tenant
        var calls: [CallRecord]
        var recordings: [RecordingRecord]
        var transcripts: [TranscriptRecord]
    }

    /// The form: a tenant the operator administers and the number. Viewers and agents get 403.
    func render(
        _ request: ConsoleRequest, message: String? = nil, status: Int = 200, findings: Findings? = nil
    ) async -> ConsoleResponse {
        let administered: [Tenant]
        do { administered = try await console.visibleTenants(session).filter { session.account.role(in: $0.id) == .admin } } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        var selected = findings?.tenant.id ?? request.form["tenant"] ?? request.query["tenant"]
        if let selected, !administered.contains(where: { $0.id == selected }) {
            switch await console.administeredTenant(selected, session: session) {
            case .success: break
            case .failure(let failure): return failure.response
            }
        }
        guard !administered.isEmpty else {
            return .problem(403, "Forbidden", Self.forbidden, session: session)
        }
        if selected == nil { selected = administered.first?.id }
        var body = "<h1>Data-subject requests</h1>"
        if let message { body += "<p class=\"error\" role=\"alert\">\(HTML.escape(message))</p>" }
        let options = administered.map {
            "<option value=\"\(HTML.escape($0.id))\"\($0.id == selected ? " selected" : "")>\(HTML.escape($0.name))</option>"
        }.joined()
        body += """
            <section aria-labelledby="lookup-h"><h2 id="lookup-h">Find a caller</h2>
            <p class="note">The number is matched through the tenant's keyed hash; it is not stored, logged, audited or shown again.</p>
            <form method="post" action="/subjects" class="subject" autocomplete="off">
            <input type="hidden" name="csrf" value="\(HTML.escape(session.csrfToken))">
            <label for="s-tenant">Tenant</label><select id="s-tenant" name="tenant">\(options)</select>
            <label for="s-phone">Caller's phone number (as the telephony provider sent it)</label>
            <input id="s-phone" name="phone" type="tel" required maxlength="64" autocomplete="off">
            <button type="submit">Find</button>
            </form></section>
            """
        if let findings { body += Self.list(findings, csrf: session.csrfToken) }
        return .html(status, ConsoleLayout.page(title: "Data-subject requests", session: session, body: body))
    }

    static let forbidden = "Only an administrator of a tenant may handle its data-subject requests."

    /// `POST /subjects`: looks the number up and keeps it in the session for export and erasure.
    func lookUp(_ request: ConsoleRequest) async -> ConsoleResponse {
        let form = request.form
        let tenantID = form["tenant"] ?? ""
        let tenant: Tenant
        switch await console.administeredTenant(tenantID, session: session) {
        case .success(let found): tenant = found
        case .failure(let failure): return failure.response
        }
        let phone = (form["phone"] ?? "").trimmingCharacters(in: .whitespaces)
        guard !phone.isEmpty, phone.utf8.count <= 64 else {
            return await render(request, message: "Type the caller's number (up to 64 characters).", status: 400)
        }
        let findings: Findings
        switch await Self.find(tenant: tenant, phoneNumber: phone, console: console) {
        case .success(let found): findings = found
        case .failure(let failure): return await render(request, message: failure.message, status: failure.status)
        }
        guard !findings.calls.isEmpty else {
            console.sessions.forgetSubject(key: session.key)
            return await render(request, message: "\(tenant.name) has no call from that number.", status: 200)
        }
        console.sessions.rememberSubject(key: session.key, tenantID: tenant.id, phoneNumber: phone)
        return await render(request, findings: findings)
    }

    /// The caller's calls in `tenant` (``Console/callsOfCaller(_:in:)``), with their recordings and transcripts.
    static func find(tenant: Tenant, phoneNumber: String, console: Console) async -> Result<Findings, CallerLookupFailure> {
        let calls: [CallRecord]
        switch await console.callsOfCaller(phoneNumber, in: tenant) {
        case .success(let found): calls = found
        case .failure(let failure): return .failure(failure)
        }
        do {
            let ids = calls.map(\.id)
            return .success(
                Findings(
                    tenant: tenant, calls: calls, recordings: try await console.catalog.recordings(inCalls: ids),
                    transcripts: try await console.catalog.transcripts(inCalls: ids)))
        } catch {
            return .failure(CallerLookupFailure(status: 503, message: "The catalog cannot answer: \(error.message)."))
        }
    }

    /// The caller's calls, then the export and erasure forms.
    static func list(_ findings: Findings, csrf: String) -> String {
        let restricted = findings.recordings.filter { $0.restricted && $0.state != .shredded }.count
        var body = """
            <section aria-labelledby="found-h"><h2 id="found-h">What \(HTML.escape(findings.tenant.name)) holds about this caller</h2>
            <table class="subject-calls"><caption>\(findings.calls.count) call(s) from the number you typed</caption>
            <thead><tr><th scope="col">Call</th><th scope="col">Started</th><th scope="col">Ended</th>
            <th scope="col">Recordings</th><th scope="col">Transcripts</th></tr></thead><tbody>
            """
        for call in findings.calls {
            let recordings = findings.recordings.filter { $0.callId == call.id }
            let transcripts = findings.transcripts.filter { $0.callId == call.id }
            body += """
                <tr><td><a href="/calls/\(FormEncoding.escape(call.id))">\(HTML.escape(call.id))</a></td>
                <td>\(ConsoleFormat.time(call.startedAt))</td><td>\(call.endedAt.map(ConsoleFormat.time) ?? "live")</td>
                <td>\(recordings.count)\(counts(recordings.map { $0.hold && $0.state != .shredded ? "held" : $0.state.rawValue }))</td>
                <td>\(transcripts.count)\(counts(transcripts.map(\.state.rawValue)))</td></tr>
                """
        }
        body += """
            </tbody></table></section>
            <section aria-labelledby="export-h"><h2 id="export-h">Export</h2>
            <p>A ZIP with each call's audio (WAV), transcripts and consent evidence and a manifest, as
            <code>callvault subject export</code> writes it; every decryption is audited with you as the actor.
            Restricted recordings are left out and listed in the manifest, unless you include them below.</p>
            <form method="post" action="/subjects/export" autocomplete="off">
            <input type="hidden" name="csrf" value="\(HTML.escape(csrf))">
            <p><input id="x-restricted" name="restricted" type="checkbox" value="1">
            <label for="x-restricted">Include restricted recordings\(restricted == 0 ? "" : " (\(restricted) here)") — overrides their restriction, audited with your reason</label></p>
            <p><label for="x-override">Override reason (required to include them)</label>
            <input id="x-override" name="override" maxlength="500" size="60"></p>
            <button type="submit">Download the export</button>
            </form></section>
            <section aria-labelledby="erase-h"><h2 id="erase-h">Erasure</h2>
            <p>Crypto-erases every recording and transcript listed above, as <code>callvault subject erase</code>:
            their keys are destroyed. Recordings under legal hold are kept. You will be asked to confirm.</p>
            <form method="post" action="/subjects/erase">
            <input type="hidden" name="csrf" value="\(HTML.escape(csrf))">
            <button type="submit">Erase…</button>
            </form></section>
            """
        return body
    }

    /// ` (complete 2, shredded 1)`; empty for none.
    static func counts(_ states: [String]) -> String {
        guard !states.isEmpty else { return "" }
        let grouped = Dictionary(grouping: states, by: { $0 }).sorted { $0.key < $1.key }
        return " (" + grouped.map { "\(HTML.escape($0.key)) \($0.value.count)" }.joined(separator: ", ") + ")"
    }
}

extension Console {
    /// The tenant if the operator administers it; else 404 (not visible, as one that does not exist) or
    /// 403 (visible, below admin).
    func administeredTenant(_ id: String, session: ConsoleSession) async -> Result<Tenant, ConsoleFailure> {
        let tenant: Tenant?
        do { tenant = try await visibleTenants(session).first { $0.id == id } } catch {
            return .failure(ConsoleFailure(response: .problem(503, "Catalog unavailable", error.message, session: session)))
        }
        guard let tenant else { return .failure(ConsoleFailure(response: .notFound(session: session))) }
        guard session.account.role(in: tenant.id) == .admin else {
            return .failure(ConsoleFailure(response: .problem(403, "Forbidden", SubjectRequestsPage.forbidden, session: session)))
        }
        return .success(tenant)
    }
}
