import CallVaultIngest
import CallVaultModel
import CallVaultStore
import Foundation

/// `GET /live`: the calls of the operator's tenants that are recording now, for any role.
///
/// Two views. This process's calls come from `serve`'s live-call registry
/// (``ConsoleConfiguration/liveCalls``), read on each stream's event loop: consent gate, frames in and
/// recorded per track, exact to the frame. Every other live call — another node's, or one whose `serve`
/// died without ending it — comes from the catalog (calls without an end, started in the last
/// ``window``) with the recorder's flushed progress (duration per track). No script and no meta
/// refresh: the page has a Refresh link.
struct LiveCallsPage {
    let console: Console
    let session: ConsoleSession
    /// Calls older than this are not looked at (a call longer than a day is not a live call any more).
    static let window: TimeInterval = 86_400
    /// Live calls shown at most, per view.
    static let limit = 200

    func render(_ request: ConsoleRequest) async -> ConsoleResponse {
        let tenants: [Tenant]
        do { tenants = try await console.visibleTenants(session) } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        let names = Dictionary(uniqueKeysWithValues: tenants.map { ($0.id, $0.name) })
        let here = await console.configuration.liveCalls?().filter { session.account.role(in: $0.tenantID) != nil }
        let hereIDs = Set((here ?? []).map(\.callID))
        // The catalog filters live calls in SQL (`calls_live`, `calls_live_by_tenant`): one query.
        let query = CallSummaryQuery(
            tenantIDs: session.account.globalAdmin ? nil : tenants.map(\.id),
            startedFrom: Date().addingTimeInterval(-Self.window), startedBefore: nil, after: nil, limit: Self.limit,
            state: .live)
        let live: [CallSummary]
        do {
            live = try await console.catalog.callSummaries(matching: query).filter {
                session.account.role(in: $0.tenantId) != nil && !hereIDs.contains($0.id)
            }
        } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        var body = """
            <h1>Live calls</h1>
            <p><a href="/live">Refresh</a> · as of \(ConsoleFormat.time(Date())) UTC</p>
            """
        if let here {
            body += "<h2>On this node (exact to the frame)</h2>"
            body += here.isEmpty ? "<p role=\"status\">No call of your tenants is streaming to this node now.</p>" : table(here, names: names)
            body += "<h2>From the catalog (other nodes, as of their last progress flush)</h2>"
        }
        if live.isEmpty {
            body += "<p role=\"status\">No \(here == nil ? "" : "other ")call of your tenants is live now.</p>"
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

    /// This node's calls: one row per stream (a call's two tracks may come on two connections).
    private func table(_ calls: [LiveCallSnapshot], names: [String: String]) -> String {
        var html = """
            <table class="live exact"><caption>\(calls.count) call(s) streaming here</caption>
            <thead><tr><th scope="col">Call</th><th scope="col">Tenant</th><th scope="col">Started</th>
            <th scope="col">Protocol</th><th scope="col">Consent gate</th>
            <th scope="col">Tracks (20 ms frames in, recorded)</th></tr></thead><tbody>
            """
        for call in calls.prefix(Self.limit) {
            for stream in call.streams {
                let tracks = stream.tracks.map {
                    "\($0.track.rawValue): \($0.framesIn) in, \($0.framesRecorded) recorded"
                }.joined(separator: "<br>")
                html += """
                    <tr><td><a href="/calls/\(FormEncoding.escape(call.callID))">\(HTML.escape(call.externalID))</a></td>
                    <td>\(HTML.escape(names[call.tenantID] ?? call.tenantID))</td><td>\(ConsoleFormat.time(call.startedAt))</td>
                    <td>\(stream.mediaProtocol.rawValue)</td><td>\(HTML.escape(Self.gate(stream)))</td>
                    <td>\(tracks.isEmpty ? "no frame yet" : tracks)</td></tr>
                    """
            }
        }
        return html + "</tbody></table>"
    }

    /// The gate in words: `recording (opt-in, disclosed)`, `waiting for consent (opt-in), paused`, ….
    static func gate(_ stream: LiveCallSnapshot.Stream) -> String {
        var text =
            switch stream.phase {
            case .waiting: stream.consentMode == .optOut ? "waiting for the disclosure" : "waiting for consent"
            case .recording: "recording"
            case .stopped: "stopped (denied or revoked)"
            }
        text += " (\(stream.consentMode.rawValue)\(stream.disclosed ? ", disclosed" : ""))"
        if stream.paused { text += ", paused" }
        text += stream.admits ? "; writing frames" : "; not writing frames"
        return text
    }
}
