import CallVaultModel
import CallVaultStore
import Foundation

/// Retention of the operator's tenants' recordings: when each expires, which are under legal hold or
/// restricted (GDPR Art. 18) and why, newest calls first, a page of calls at a time behind the calls
/// list's keyset cursor. Administrators get the hold and restriction forms
/// (``RecordingRetentionAction``). A restriction's reason lives only in its audit entry, so it is read
/// from the newest ``auditScan`` entries of these tenants.
struct RetentionPage {
    let console: Console
    let session: ConsoleSession
    static let callsPerPage = 50
    /// Audit entries read (newest first) to find the reasons of restrictions.
    static let auditScan = 5_000

    func render(_ request: ConsoleRequest, message: String? = nil, status: Int = 200) async -> ConsoleResponse {
        let tenants: [Tenant]
        do { tenants = try await console.visibleTenants(session) } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        let q = request.query
        let tenantFilter = q["tenant"].flatMap { id in tenants.contains { $0.id == id } ? id : nil }
        let tenantIDs = tenantFilter.map { [$0] } ?? (session.account.globalAdmin ? nil : tenants.map(\.id))
        let calls: [CallSummary]
        let recordings: [RecordingRecord]
        do {
            calls = try await console.catalog.callSummaries(
                matching: CallSummaryQuery(tenantIDs: tenantIDs, after: q["after"].flatMap(CallsPage.cursor), limit: Self.callsPerPage))
            recordings = try await console.catalog.recordings(inCalls: calls.filter { !$0.recordings.isEmpty }.map(\.id))
        } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        let reasons = await restrictionReasons(recordings.filter(\.restricted).map(\.id), tenantIDs: tenantIDs)
        let names = Dictionary(uniqueKeysWithValues: tenants.map { ($0.id, $0.name) })
        var body = "<h1>Retention</h1>"
        if let message { body += "<p class=\"error\" role=\"alert\">\(HTML.escape(message))</p>" }
        if let changed = q["changed"], recordings.contains(where: { $0.id == changed }) {
            body += "<p class=\"ok\" role=\"status\">Recording <code>\(HTML.escape(changed))</code> changed (audited).</p>"
        }
        body += filter(tenants: tenants, tenant: tenantFilter)
        body += """
            <p class="note">Voice is shredded at its expiry unless it is held; a restricted recording is kept but not
            transcribed, played or exported without an audited override.</p>
            """
        if recordings.isEmpty {
            body += "<p>No recordings on this page.</p>"
        } else {
            body += """
                <table class="retention"><caption>Recordings, newest calls first</caption>
                <thead><tr><th scope="col">Call</th><th scope="col">Tenant</th><th scope="col">Track</th><th scope="col">State</th>
                <th scope="col">Recorded (UTC)</th><th scope="col">Expires (UTC)</th><th scope="col">Legal hold</th>
                <th scope="col">Restriction</th><th scope="col">Actions</th></tr></thead><tbody>
                """
            let byCall = Dictionary(grouping: recordings, by: \.callId)
            for call in calls {
                for recording in (byCall[call.id] ?? []).sorted(by: { $0.track.rawValue > $1.track.rawValue }) {
                    body += row(recording, call: call, tenant: names[call.tenantId] ?? call.tenantId, reason: reasons[recording.id])
                }
            }
            body += "</tbody></table>"
        }
        if calls.count == Self.callsPerPage, let last = calls.last {
            let next = FormEncoding.query([
                ("tenant", tenantFilter), ("after", "\(Int64(last.startedAt.timeIntervalSince1970 * 1000))_\(last.id)"),
            ])
            body += "<p class=\"pager\"><a href=\"/retention\(HTML.escape(next))\" rel=\"next\">Older calls</a></p>"
        }
        if q["after"] != nil { body += "<p class=\"pager\"><a href=\"/retention\">Back to the newest</a></p>" }
        return .html(status, ConsoleLayout.page(title: "Retention", session: session, body: body))
    }

    private func row(_ recording: RecordingRecord, call: CallSummary, tenant: String, reason: String?) -> String {
        let hold = recording.hold ? "held: \(recording.holdReason ?? "no reason given")" : "no"
        let restriction = recording.restricted ? "restricted: \(reason ?? "reason in the audit log")" : "no"
        let expires =
            recording.state == .shredded
            ? "shredded \(recording.shreddedAt.map(ConsoleFormat.time) ?? "")"
            : ConsoleFormat.time(recording.expiresAt) + (recording.hold ? " (kept while held)" : "")
        return """
            <tr id="rec-\(HTML.escape(recording.id))"><td><a href="/calls/\(FormEncoding.escape(call.id))">\(HTML.escape(call.externalId))</a></td>
            <td>\(HTML.escape(tenant))</td><td>\(recording.track.rawValue)</td><td>\(recording.state.rawValue)</td>
            <td>\(ConsoleFormat.time(recording.createdAt))</td><td>\(expires)</td>
            <td>\(HTML.escape(hold))</td><td>\(HTML.escape(restriction))</td><td>\(actions(recording))</td></tr>
            """
    }

    /// The hold and restriction forms, for an administrator of the recording's tenant (none once shredded).
    private func actions(_ recording: RecordingRecord) -> String {
        guard session.account.role(in: recording.tenantId) == .admin, recording.state != .shredded else { return "" }
        let id = HTML.escape(recording.id)
        let url = FormEncoding.escape(recording.id)
        let csrf = "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(session.csrfToken))\">"
        var html: String
        if recording.hold {
            html = """
                <form method="post" action="/recordings/\(url)/hold" class="retention">\(csrf)
                <input type="hidden" name="action" value="lift">
                <button type="submit" aria-label="Lift the legal hold of recording \(id)">Lift hold</button></form>
                """
        } else {
            html = """
                <form method="post" action="/recordings/\(url)/hold" class="retention">\(csrf)
                <input type="hidden" name="action" value="set">
                <label for="hold-\(id)">Hold reason</label>
                <input id="hold-\(id)" name="reason" required maxlength="500">
                <button type="submit" aria-label="Place a legal hold on recording \(id)">Place hold</button></form>
                """
        }
        let (value, label, button) =
            recording.restricted
            ? ("lift", "Reason for lifting", "Lift restriction") : ("set", "Restriction reason", "Restrict")
        html += """
            <form method="post" action="/recordings/\(url)/restrict" class="retention">\(csrf)
            <input type="hidden" name="action" value="\(value)">
            <label for="restrict-\(id)">\(label)</label>
            <input id="restrict-\(id)" name="reason" required maxlength="500">
            <button type="submit" aria-label="\(button) recording \(id)">\(button)</button></form>
            """
        return html
    }

    /// The reason of each recording's newest `recording.restricted` entry among the newest entries.
    private func restrictionReasons(_ ids: [String], tenantIDs: [String]?) async -> [String: String] {
        var missing = Set(ids)
        var reasons: [String: String] = [:]
        var before: Int64?
        var read = 0
        while !missing.isEmpty, read < Self.auditScan {
            guard
                let entries = try? await console.catalog.audit.latestEntries(tenantIDs: tenantIDs, beforeSeq: before, limit: 500),
                let last = entries.last
            else { break }
            for entry in entries where entry.action == .recordingRestricted || entry.action == .recordingUnrestricted {
                guard let subject = entry.subjectId, missing.remove(subject) != nil else { continue }
                if entry.action == .recordingRestricted { reasons[subject] = entry.detailValues["reason"] }
            }
            read += entries.count
            before = last.seq
        }
        return reasons
    }

    private func filter(tenants: [Tenant], tenant: String?) -> String {
        var options = "<option value=\"\"\(tenant == nil ? " selected" : "")>All my tenants</option>"
        for each in tenants {
            options += "<option value=\"\(HTML.escape(each.id))\"\(tenant == each.id ? " selected" : "")>\(HTML.escape(each.name))</option>"
        }
        return """
            <form method="get" action="/retention" class="filters" role="search" aria-label="Filter recordings">
            <label for="r-tenant">Tenant</label><select id="r-tenant" name="tenant">\(options)</select>
            <button type="submit">Filter</button>
            </form>
            """
    }
}
