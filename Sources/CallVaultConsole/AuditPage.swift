import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import Foundation

/// The audit log of the operator's tenants, newest first, 100 entries a page read by the audit store's
/// `entries(matching:)` (newest first before a sequence number for Older, oldest first after one for Newer:
/// keyset cursors on the sequence number), filtered by action, actor, subject and UTC dates (``AuditFilter``)
/// with the tenant list, all in SQL; the filters ride along in the paging links. A button verifies the whole
/// hash chain and shows its head hash (to compare with a copy kept elsewhere).
struct AuditPage {
    let console: Console
    let session: ConsoleSession
    static let pageSize = 100

    func render(_ request: ConsoleRequest, verification: AuditVerification?, failure: String? = nil) async -> ConsoleResponse {
        let filter: AuditFilter
        do { filter = try AuditFilter(request.query) } catch {
            // A refused actor or subject is not shown back: it may be something typed that should not be (a number).
            let shown = request.query.filter { !["actor", "subject"].contains($0.key) || AuditFilter.isPlain($0.value) }
            let body = "<h1>Audit log</h1><p class=\"error\" role=\"alert\">\(HTML.escape(error.message))</p>"
                + Self.form(AuditFilter(), typed: shown)
            return .html(400, ConsoleLayout.page(title: "Audit log: filter refused", session: session, body: body))
        }
        var entries: [AuditEntry]
        let before = request.query["before"].flatMap { Int64($0) }
        let after = before == nil ? request.query["after"].flatMap { Int64($0) } : nil
        let tenantIDs = session.account.globalAdmin ? nil : Array(session.account.roles.keys)
        // One entry more than a page says whether there are more in the direction read.
        let older: Bool
        let newer: Bool
        do {
            if let after {
                entries = try await console.catalog.audit.entries(
                    matching: filter.query(tenantIDs: tenantIDs, direction: .oldestFirst(afterSeq: after), limit: Self.pageSize + 1))
                newer = entries.count > Self.pageSize
                entries = Array(entries.prefix(Self.pageSize).reversed())
                older = true
            } else {
                entries = try await console.catalog.audit.entries(
                    matching: filter.query(tenantIDs: tenantIDs, direction: .newestFirst(beforeSeq: before), limit: Self.pageSize + 1))
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
        body += Self.form(filter, typed: request.query)
        switch verification {
        case .intact(let count, let head)?:
            body += "<p class=\"ok\" role=\"status\" id=\"verification\">Chain intact: \(count) entries. Head hash <code id=\"head-hash\">\(Hex.encode(head))</code></p>"
        case .broken(let seq, let reason, let verified)?:
            body += "<p class=\"error\" role=\"alert\" id=\"verification\">Chain BROKEN at entry \(seq) (\(HTML.escape(String(describing: reason)))); \(verified) entries verified before it.</p>"
        case nil: break
        }
        body += """
            <table class="audit"><caption>\(filter.isEmpty ? "Newest entries first" : "Matching entries, newest first")</caption><thead><tr>
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
        if entries.isEmpty { body += "<p>No entries match.</p>" }
        // The filters ride along in every link, so paging stays within them.
        func link(_ cursor: (name: String, seq: Int64)?) -> String {
            var fields = filter.fields
            if let cursor { fields.append((cursor.name, String(cursor.seq))) }
            return HTML.escape("/audit" + FormEncoding.query(fields))
        }
        var links: [String] = []
        if newer, let first = entries.first {
            links.append("<a href=\"\(link(("after", first.seq)))\" rel=\"prev\">Newer entries</a>")
        }
        if older, let last = entries.last {
            links.append("<a href=\"\(link(("before", last.seq)))\" rel=\"next\">Older entries</a>")
        }
        if newer { links.append("<a href=\"\(link(nil))\">Newest</a>") }
        if !links.isEmpty { body += "<p class=\"pager\">\(links.joined(separator: " · "))</p>" }
        return .html(200, ConsoleLayout.page(title: "Audit log", session: session, body: body))
    }

    /// The filter form (GET, so a filtered page can be bookmarked and paged): action from the known list, actor,
    /// subject, and dates. `typed` fills the fields back, also after a refusal.
    static func form(_ filter: AuditFilter, typed query: [String: String]) -> String {
        func value(_ name: String) -> String { HTML.escape(query[name] ?? "") }
        let chosen = filter.action?.rawValue ?? ""
        var actions = "<option value=\"\"\(chosen.isEmpty ? " selected" : "")>Any</option>"
        for action in AuditAction.known {
            actions += "<option value=\"\(HTML.escape(action.rawValue))\"\(action.rawValue == chosen ? " selected" : "")>\(HTML.escape(action.rawValue))</option>"
        }
        return """
            <form method="get" action="/audit" class="filters" role="search" aria-label="Filter the audit log">
            <label for="a-action">Action</label><select id="a-action" name="action">\(actions)</select>
            <label for="a-actor">Actor</label><input id="a-actor" name="actor" value="\(value("actor"))" maxlength="200" placeholder="operator name or cli" autocomplete="off">
            <label for="a-subject">Call or recording id</label><input id="a-subject" name="subject" value="\(value("subject"))" maxlength="200" autocomplete="off">
            <label for="a-from">From (UTC)</label><input id="a-from" name="from" type="date" value="\(value("from"))">
            <label for="a-to">To (UTC)</label><input id="a-to" name="to" type="date" value="\(value("to"))">
            <button type="submit">Filter</button> <a href="/audit">Clear</a>
            </form>
            """
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
