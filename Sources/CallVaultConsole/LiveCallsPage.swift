import CallVaultModel
import CallVaultStore
import Foundation

/// `GET /live`: the calls of the operator's tenants that are recording now, with their consent state
/// and how much of each track is recorded, for any role.
///
/// Read from the catalog (calls without an end, started in the last ``window``), not from `serve`'s
/// live registry: the registry knows only streams of this process and exposes no counters yet, while
/// the catalog holds every node's calls and the recorder's progress (duration per track, flushed as it
/// records). No script and no meta refresh: the page has a Refresh link.
struct LiveCallsPage {
    let console: Console
    let session: ConsoleSession
    /// Calls older than this are not looked at (a call longer than a day is not a live call any more).
    static let window: TimeInterval = 86_400
    /// Live calls shown at most.
    static let limit = 200

    func render(_ request: ConsoleRequest) async -> ConsoleResponse {
        let tenants: [Tenant]
        do { tenants = try await console.visibleTenants(session) } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        let names = Dictionary(uniqueKeysWithValues: tenants.map { ($0.id, $0.name) })
        // The catalog filters live calls in SQL (`calls_live`, `calls_live_by_tenant`): one query.
        let query = CallSummaryQuery(
            tenantIDs: session.account.globalAdmin ? nil : tenants.map(\.id),
            startedFrom: Date().addingTimeInterval(-Self.window), startedBefore: nil, after: nil, limit: Self.limit,
            state: .live)
        let live: [CallSummary]
        do {
            live = try await console.catalog.callSummaries(matching: query).filter {
                session.account.role(in: $0.tenantId) != nil
            }
        } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        var body = """
            <h1>Live calls</h1>
            <p><a href="/live">Refresh</a> · as of \(ConsoleFormat.time(Date())) UTC</p>
            """
        if live.isEmpty {
            body += "<p role=\"status\">No call of your tenants is live now.</p>"
        } else {
            body += """
                <table class="live"><caption>\(live.count) live call(s)</caption>
                <thead><tr><th scope="col">Call</th><th scope="col">Tenant</th><th scope="col">Started</th>
                <th scope="col">Consent</th><th scope="col">Tracks (state, recorded, 20 ms frames)</th></tr></thead><tbody>
                """
            for call in live.prefix(Self.limit) {
                let tracks = call.recordings.map {
                    HTML.escape("\($0.track.rawValue): \($0.state.rawValue), \(ConsoleFormat.duration($0.durationMs)), \($0.durationMs / 20) frames")
                }.joined(separator: "<br>")
                body += """
                    <tr><td><a href="/calls/\(FormEncoding.escape(call.id))">\(HTML.escape(call.externalId))</a></td>
                    <td>\(HTML.escape(names[call.tenantId] ?? call.tenantId))</td><td>\(ConsoleFormat.time(call.startedAt))</td>
                    <td>\(call.consentState.rawValue)</td><td>\(tracks.isEmpty ? "no recording yet" : tracks)</td></tr>
                    """
            }
            body += "</tbody></table>"
        }
        return .html(200, ConsoleLayout.page(title: "Live calls", session: session, body: body))
    }
}
