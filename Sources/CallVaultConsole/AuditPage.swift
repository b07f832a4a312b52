import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import Foundation

/// The audit log of the operator's tenants, newest first (the last 200 entries), and a button that
/// verifies the whole hash chain and shows its head hash (to compare with a copy kept elsewhere).
struct AuditPage {
    let console: Console
    let session: ConsoleSession

    func render(_ request: ConsoleRequest, verification: AuditVerification?, failure: String? = nil) async -> ConsoleResponse {
        var entries: [AuditEntry] = []
        do {
            if session.account.globalAdmin {
                entries = try await console.catalog.audit.entries(tenantID: nil)
            } else {
                for tenantID in session.account.roles.keys {
                    entries += try await console.catalog.audit.entries(tenantID: tenantID)
                }
            }
        } catch {
            return .problem(503, "Audit log unavailable", error.message, session: session)
        }
        entries.sort { $0.seq > $1.seq }
        var body = "<h1>Audit log</h1>"
        body += """
            <form method="post" action="/audit/verify" class="verify">
            <input type="hidden" name="csrf" value="\(HTML.escape(session.csrfToken))">
            <button type="submit">Verify chain</button>
            </form>
            """
        if let failure { body += "<p class=\"error\" role=\"alert\">\(HTML.escape(failure))</p>" }
        switch verification {
        case .intact(let count, let head)?:
            body += "<p class=\"ok\" role=\"status\" id=\"verification\">Chain intact: \(count) entries. Head hash <code id=\"head-hash\">\(Hex.encode(head))</code></p>"
        case .broken(let seq, let reason, let verified)?:
            body += "<p class=\"error\" role=\"alert\" id=\"verification\">Chain BROKEN at entry \(seq) (\(HTML.escape(String(describing: reason)))); \(verified) entries verified before it.</p>"
        case nil: break
        }
        body += """
            <table class="audit"><caption>Newest entries first (at most 200)</caption><thead><tr>
            <th scope="col">#</th><th scope="col">At (UTC)</th><th scope="col">Actor</th><th scope="col">Action</th>
            <th scope="col">Subject</th><th scope="col">Details</th></tr></thead><tbody>
            """
        for entry in entries.prefix(200) {
            body += """
                <tr><td>\(entry.seq)</td><td>\(ConsoleFormat.time(entry.at))</td><td>\(HTML.escape(entry.actor))</td>
                <td>\(HTML.escape(entry.action.rawValue))</td><td><code>\(HTML.escape(entry.subjectId ?? ""))</code></td>
                <td><code>\(HTML.escape(entry.details))</code></td></tr>
                """
        }
        body += "</tbody></table>"
        return .html(200, ConsoleLayout.page(title: "Audit log", session: session, body: body))
    }

    func verify(_ request: ConsoleRequest) async -> ConsoleResponse {
        do {
            let verification = try await console.catalog.audit.verify()
            return await render(request, verification: verification)
        } catch {
            return await render(request, verification: nil, failure: "The chain could not be read: \(error.message)")
        }
    }
}
