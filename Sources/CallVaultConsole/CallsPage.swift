import CallVaultModel
import CallVaultStore
import Foundation

/// The calls list: the operator's tenants' calls, newest first, filtered by tenant, start date range,
/// state and consent outcome, a page at a time behind a keyset cursor (`after`), so a deep page costs
/// what the first does. Every filter is the catalog's SQL (``CallSummaryQuery``), with indexes: a page is
/// one query of a page of rows plus one, however selective the filter.
struct CallsPage {
    let console: Console
    let session: ConsoleSession

    func render(_ request: ConsoleRequest) async -> ConsoleResponse {
        let tenants: [Tenant]
        do { tenants = try await console.visibleTenants(session) } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        let q = request.query
        let tenantFilter = q["tenant"].flatMap { id in tenants.contains { $0.id == id } ? id : nil }
        let from = q["from"].flatMap(Self.day)
        let to = q["to"].flatMap(Self.day)
        let state = q["state"].flatMap(CallListState.init(rawValue:))
        let consent = q["consent"].flatMap(CallConsentState.init(rawValue:))
        // One more than a page: whether there is a next page, without counting.
        let query = CallSummaryQuery(
            tenantIDs: tenantFilter.map { [$0] } ?? (session.account.globalAdmin ? nil : tenants.map(\.id)),
            startedFrom: from, startedBefore: to.map { $0.addingTimeInterval(86_400) },
            after: q["after"].flatMap(Self.cursor), limit: console.configuration.pageSize + 1, state: state,
            consentState: consent)
        var page: [CallSummary]
        do { page = try await console.catalog.callSummaries(matching: query) } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        let more = page.count > console.configuration.pageSize
        if more { page.removeLast() }
        let names = Dictionary(uniqueKeysWithValues: tenants.map { ($0.id, $0.name) })
        var body = "<h1>Calls</h1>" + filters(tenants: tenants, query: q) + callerSearchForm(tenants: tenants, selected: tenantFilter, filters: q)
        if page.isEmpty {
            body += "<p>No calls match.</p>"
        } else {
            body += """
                <table class="calls"><caption>Calls, newest first</caption>
                <thead><tr><th scope="col">Started (UTC)</th><th scope="col">Call</th><th scope="col">Tenant</th>
                <th scope="col">Consent</th><th scope="col">Recordings</th><th scope="col">Duration</th></tr></thead><tbody>
                """
            for call in page {
                let recordings = call.recordings.map { "\($0.track.rawValue): \($0.state.rawValue)" }.joined(separator: ", ")
                let duration = call.recordings.map(\.durationMs).max().map(ConsoleFormat.duration) ?? "–"
                body += """
                    <tr><td>\(ConsoleFormat.time(call.startedAt))</td>
                    <td><a href="/calls/\(FormEncoding.escape(call.id))">\(HTML.escape(call.externalId))</a>\(call.endedAt == nil ? " <span class=\"live\">live</span>" : "")</td>
                    <td>\(HTML.escape(names[call.tenantId] ?? call.tenantId))</td>
                    <td><span class="consent consent-\(call.consentState.rawValue)">\(call.consentState.rawValue)</span></td>
                    <td>\(HTML.escape(recordings.isEmpty ? "none" : recordings))</td>
                    <td>\(duration)</td></tr>
                    """
            }
            body += "</tbody></table>"
        }
        if more, let last = page.last {
            let next = FormEncoding.query([
                ("tenant", tenantFilter), ("from", q["from"]), ("to", q["to"]), ("state", state?.rawValue), ("consent", consent?.rawValue),
                ("after", "\(Int64((last.startedAt.timeIntervalSince1970 * 1000).rounded()))_\(last.id)"),
            ])
            body += "<p class=\"pager\"><a href=\"/calls\(HTML.escape(next))\" rel=\"next\">Next page</a></p>"
        }
        if q["after"] != nil { body += "<p class=\"pager\"><a href=\"/calls\">Back to the newest</a></p>" }
        return .html(200, ConsoleLayout.page(title: "Calls", session: session, body: body))
    }

    func filters(tenants: [Tenant], query q: [String: String]) -> String {
        func option(_ value: String, _ label: String, selected: String?) -> String {
            "<option value=\"\(HTML.escape(value))\"\(selected == value ? " selected" : "")>\(HTML.escape(label))</option>"
        }
        var tenantOptions = option("", "All my tenants", selected: q["tenant"] ?? "")
        for tenant in tenants { tenantOptions += option(tenant.id, tenant.name, selected: q["tenant"]) }
        var stateOptions = option("", "Any", selected: q["state"] ?? "")
        for state in CallListState.allCases { stateOptions += option(state.rawValue, state.rawValue, selected: q["state"]) }
        var consentOptions = option("", "Any", selected: q["consent"] ?? "")
        for consent in ["pending", "disclosed", "granted", "denied", "revoked", "paused", "not-required"] {
            consentOptions += option(consent, consent, selected: q["consent"])
        }
        return """
            <form method="get" action="/calls" class="filters" role="search" aria-label="Filter calls">
            <label for="f-tenant">Tenant</label><select id="f-tenant" name="tenant">\(tenantOptions)</select>
            <label for="f-from">From</label><input id="f-from" name="from" type="date" value="\(HTML.escape(q["from"] ?? ""))">
            <label for="f-to">To</label><input id="f-to" name="to" type="date" value="\(HTML.escape(q["to"] ?? ""))">
            <label for="f-state">State</label><select id="f-state" name="state">\(stateOptions)</select>
            <label for="f-consent">Consent</label><select id="f-consent" name="consent">\(consentOptions)</select>
            <button type="submit">Filter</button>
            </form>
            """
    }

    /// `YYYY-MM-DD` as midnight UTC.
    static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1970...9999).contains(parts[0]), (1...12).contains(parts[1]), (1...31).contains(parts[2]) else {
            return nil
        }
        var components = DateComponents()
        (components.year, components.month, components.day) = (parts[0], parts[1], parts[2])
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: components)
    }

    /// `MILLISECONDS_ID`, the start time and id of the last call of the page before.
    static func cursor(_ text: String) -> (startedAt: Date, id: String)? {
        let parts = text.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, let ms = Int64(parts[0]), parts[1].utf8.count <= 200 else { return nil }
        return (Date(timeIntervalSince1970: Double(ms) / 1000), String(parts[1]))
    }
}
