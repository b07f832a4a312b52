import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import Foundation

/// The audit log of the operator's tenants, newest first, 100 entries a page read by the audit store
/// (`latestEntries` before a sequence number for Older, `earliestEntries` after one for Newer: keyset
/// cursors on the primary key, the tenant filter in SQL), and a button that verifies the whole hash chain and shows its head hash (to
/// compare with a copy kept elsewhere).
struct AuditPage {
    let console: Console
    let session: ConsoleSession
    static let pageSize = 100

    func render(_ request: ConsoleRequest, verification: AuditVerification?, failure: String? = nil) async -> ConsoleResponse {
        var entries: [AuditEntry]
        let before = request.query["before"].flatMap { Int64($0) }
        let after = before == nil ? request.query["after"].flatMap { Int64($0) } : nil
        let tenantIDs = session.account.globalAdmin ? nil : Array(session.account.roles.keys)
        // One entry more than a page says whether there are more in the direction read.
        let older: Bool
        let newer: Bool
        do {
            if let after {
                entries = try await console.catalog.audit.earliestEntries(
                    tenantIDs: tenantIDs, afterSeq: after, limit: Self.pageSize + 1)
                newer = entries.count > Self.pageSize
                entries = Array(entries.prefix(Self.pageSize).reversed())
                older = true
            } else {
                entries = try await console.catalog.audit.latestEntries(
                    tenantIDs: tenantIDs, beforeSeq: before, limit: Self.pageSize + 1)
                older = entries.count > Self.pageSize
                entries = Array(entries.prefix(Self.pageSize))
                newer = before != nil
            }
        } catch {
            return .problem(503, "Audit log unavailable", error.message, session: session)
        }
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
            <table class="audit"><caption>Newest entries first</caption><thead><tr>
            <th scope="col">#</th><th scope="col">At (UTC)</th><th scope="col">Actor</th><th scope="col">Action</th>
            <th scope="col">Subject</th><th scope="col">Details</th></tr></thead><tbody>
            """
        for entry in entries {
            body += """
                <tr><td>\(entry.seq)</td><td>\(ConsoleFormat.time(entry.at))</td><td>\(HTML.escape(entry.actor))</td>
                <td>\(HTML.escape(entry.action.rawValue))</td><td><code>\(HTML.escape(entry.subjectId ?? ""))</code></td>
                <td><code>\(HTML.escape(entry.details))</code></td></tr>
                """
        }
        body += "</tbody></table>"
        var links: [String] = []
        if newer, let first = entries.first {
            links.append("<a href=\"/audit?after=\(first.seq)\" rel=\"prev\">Newer entries</a>")
        }
        if older, let last = entries.last {
            links.append("<a href=\"/audit?before=\(last.seq)\" rel=\"next\">Older entries</a>")
        }
        if newer { links.append("<a href=\"/audit\">Newest</a>") }
        if !links.isEmpty { body += "<p class=\"pager\">\(links.joined(separator: " · "))</p>" }
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
