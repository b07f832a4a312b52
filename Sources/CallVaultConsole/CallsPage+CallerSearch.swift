import CallVaultModel
import CallVaultStore
import Foundation

/// The calls page's search by caller number (any role): the number goes in a POST form, is looked up
/// in each tenant by that tenant's keyed hash (``Console/callsOfCaller(_:in:)``, the lookup of the
/// subject-requests page and `callvault subject`), and the calls found are listed on the POST's own
/// response. The number is never put in a URL, a page (not even back into the field), a log line or
/// the audit log, and is not kept after the response.
extension CallsPage {
    /// The filters of the list a search is combined with: start dates, state and consent outcome.
    static let combinedFilters = ["from", "to", "state", "consent"]

    /// The search form, with the tenant of the list's filter selected (all the operator's by default) and
    /// the list's other filters carried as hidden fields, so the search is combined with them.
    func callerSearchForm(tenants: [Tenant], selected: String?, filters: [String: String] = [:]) -> String {
        let carried = Self.combinedFilters.compactMap { name in
            filters[name].flatMap { $0.isEmpty ? nil : $0 }.map {
                "<input type=\"hidden\" name=\"\(name)\" value=\"\(HTML.escape($0))\">"
            }
        }.joined()
        let note = carried.isEmpty ? "" : " <span class=\"note\">(with the list's date, state and consent filters)</span>"
        var options = "<option value=\"\"\(selected == nil ? " selected" : "")>All my tenants</option>"
        for tenant in tenants {
            options +=
                "<option value=\"\(HTML.escape(tenant.id))\"\(selected == tenant.id ? " selected" : "")>\(HTML.escape(tenant.name))</option>"
        }
        return """
            <form method="post" action="/calls" class="filters" role="search" aria-label="Find calls by caller number" autocomplete="off">
            <input type="hidden" name="csrf" value="\(HTML.escape(session.csrfToken))">\(carried)
            <label for="c-tenant">Tenant</label><select id="c-tenant" name="tenant">\(options)</select>
            <label for="c-phone">Caller's number</label>
            <input id="c-phone" name="phone" type="tel" required maxlength="64" autocomplete="off">
            <button type="submit">Find calls</button>\(note)
            </form>
            """
    }

    /// `POST /calls`: the calls from the number typed, in the chosen tenant or in all the operator's.
    func searchByCaller(_ request: ConsoleRequest) async -> ConsoleResponse {
        let tenants: [Tenant]
        do { tenants = try await console.visibleTenants(session) } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        let form = request.form
        let chosen = form["tenant"] ?? ""
        let selected = chosen.isEmpty ? nil : chosen
        // The list's filters the search was combined with, shown again on the response and carried to
        // the next search from it (only values the list itself accepts).
        var combined: [String: String] = [:]
        if let from = form["from"], Self.day(from) != nil { combined["from"] = from }
        if let to = form["to"], Self.day(to) != nil { combined["to"] = to }
        if let state = form["state"], CallListState(rawValue: state) != nil { combined["state"] = state }
        if let consent = form["consent"], CallConsentState(rawValue: consent) != nil { combined["consent"] = consent }
        let searched: [Tenant]
        if chosen.isEmpty {
            searched = tenants
        } else {
            // Another tenant's id answers as one that does not exist.
            guard let tenant = tenants.first(where: { $0.id == chosen }) else { return .notFound(session: session) }
            searched = [tenant]
        }
        let phone = (form["phone"] ?? "").trimmingCharacters(in: .whitespaces)
        guard !phone.isEmpty, phone.utf8.count <= 64 else {
            return page(tenants: tenants, selected: selected, filters: combined, status: 400,
                messages: ["Type the caller's number (up to 64 characters)."], found: nil)
        }
        var calls: [CallRecord] = []
        var messages: [String] = []
        for tenant in searched {
            switch await console.callsOfCaller(phone, in: tenant) {
            case .success(let found): calls += found
            case .failure(let failure) where failure.status == 400:
                return page(tenants: tenants, selected: selected, filters: combined, status: 400,
                    messages: [failure.message], found: nil)
            case .failure(let failure):
                messages.append("\(tenant.name) could not be searched: \(failure.message)")
            }
        }
        calls.sort { ($0.startedAt, $0.id) > ($1.startedAt, $1.id) }
        // The list's filters, when the form carried them: the catalog's call query over the calls found.
        let from = combined["from"].flatMap(Self.day)
        let to = combined["to"].flatMap(Self.day)
        let state = combined["state"].flatMap(CallListState.init(rawValue:))
        let consent = combined["consent"].flatMap(CallConsentState.init(rawValue:))
        if !calls.isEmpty, from != nil || to != nil || state != nil || consent != nil {
            do {
                let kept = Set(
                    try await console.catalog.callSummaries(
                        matching: CallSummaryQuery(
                            tenantIDs: searched.map(\.id), startedFrom: from,
                            startedBefore: to.map { $0.addingTimeInterval(86_400) }, state: state, consentState: consent,
                            callIDs: calls.map(\.id))
                    ).map(\.id))
                calls = calls.filter { kept.contains($0.id) }
            } catch {
                return .problem(503, "Catalog unavailable", error.message, session: session)
            }
        }
        let recordings: [RecordingRecord]
        do { recordings = try await console.catalog.recordings(inCalls: calls.map(\.id)) } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        return page(
            tenants: tenants, selected: selected, filters: combined,
            status: messages.isEmpty || !calls.isEmpty ? 200 : 503, messages: messages, found: (calls, recordings))
    }

    private func page(
        tenants: [Tenant], selected: String?, filters combined: [String: String], status: Int, messages: [String],
        found: (calls: [CallRecord], recordings: [RecordingRecord])?
    ) -> ConsoleResponse {
        var body = "<h1>Calls</h1>"
        for message in messages { body += "<p class=\"error\" role=\"alert\">\(HTML.escape(message))</p>" }
        var query = combined
        if let selected { query["tenant"] = selected }
        body += filters(tenants: tenants, query: query)
        body += callerSearchForm(tenants: tenants, selected: selected, filters: combined)
        if let found {
            let names = Dictionary(uniqueKeysWithValues: tenants.map { ($0.id, $0.name) })
            body += "<section aria-labelledby=\"caller-h\"><h2 id=\"caller-h\">Calls from the number you typed</h2>"
            if !combined.isEmpty {
                let described = Self.combinedFilters.compactMap { name in combined[name].map { "\(name) \($0)" } }
                body += "<p class=\"note\">Only calls that match the list's filters: \(HTML.escape(described.joined(separator: ", "))).</p>"
            }
            if found.calls.isEmpty {
                body += "<p>No call from that number in \(selected.flatMap { names[$0] }.map(HTML.escape) ?? "your tenants").</p>"
            } else {
                body += """
                    <table class="calls"><caption>\(found.calls.count) call(s), newest first</caption>
                    <thead><tr><th scope="col">Started (UTC)</th><th scope="col">Call</th><th scope="col">Tenant</th>
                    <th scope="col">Ended (UTC)</th><th scope="col">Recordings</th></tr></thead><tbody>
                    """
                for call in found.calls {
                    let recordings = found.recordings.filter { $0.callId == call.id }
                        .map { "\($0.track.rawValue): \($0.state.rawValue)" }.joined(separator: ", ")
                    body += """
                        <tr><td>\(ConsoleFormat.time(call.startedAt))</td>
                        <td><a href="/calls/\(FormEncoding.escape(call.id))">\(HTML.escape(call.externalId))</a></td>
                        <td>\(HTML.escape(names[call.tenantId] ?? call.tenantId))</td>
                        <td>\(call.endedAt.map(ConsoleFormat.time) ?? "<span class=\"live\">live</span>")</td>
                        <td>\(HTML.escape(recordings.isEmpty ? "none" : recordings))</td></tr>
                        """
                }
                body += "</tbody></table>"
            }
            body += "</section>"
        }
        body += "<p class=\"pager\"><a href=\"/calls\">All calls</a></p>"
        return .html(status, ConsoleLayout.page(title: "Calls", session: session, body: body))
    }
}
