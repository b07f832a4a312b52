import CallVaultModel
import CallVaultStore
import Foundation

/// The transcription queue of the operator's tenants, newest first, filtered by tenant and state and paged
/// by the queue's own query (``JobListQuery``: SQL filters, a keyset cursor), with each job's call (linked),
/// attempts, last error and times. An administrator of a job's tenant may queue a dead, cancelled or failed job again through the queue's `retry` (what `callvault jobs retry` calls),
/// audited `job.retried` with the operator. The last error is shown as stored: the worker keeps only
/// codes, hosts, statuses and the engine's own error line there, never transcript text.
struct JobsPage {
    let console: Console
    let session: ConsoleSession
    /// Jobs a page.
    static let pageSize = 50
    /// The states a job can be retried from (`JobQueue.retry`).
    static let retryable: Set<JobState> = [.dead, .cancelled, .failed]

    func render(_ request: ConsoleRequest, message: String? = nil, status: Int = 200) async -> ConsoleResponse {
        let tenants: [Tenant]
        let q = request.query
        let state = q["state"].flatMap(JobState.init(rawValue:))
        do { tenants = try await console.visibleTenants(session) } catch {
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        let tenantFilter = q["tenant"].flatMap { id in tenants.contains { $0.id == id } ? id : nil }
        // The queue filters and pages (newest first, a keyset cursor); one job more than a page says
        // whether there is a next one.
        let query = JobListQuery(
            tenantIDs: tenantFilter.map { [$0] } ?? (session.account.globalAdmin ? nil : tenants.map(\.id)),
            state: state, after: q["after"].flatMap(Self.cursor),
            limit: Self.pageSize + 1)
        var jobs: [JobRecord]
        do { jobs = try await console.catalog.queue.jobs(matching: query) } catch {
            return .problem(503, "Job queue unavailable", error.message, session: session)
        }
        // The queue's tenant filter already holds only the operator's tenants; checked again per job.
        jobs = jobs.filter { session.account.role(in: $0.tenantId) != nil }
        let more = jobs.count > Self.pageSize
        if more { jobs.removeLast() }
        let names = Dictionary(uniqueKeysWithValues: tenants.map { ($0.id, $0.name) })
        var body = "<h1>Transcription jobs</h1>"
        if let message { body += "<p class=\"error\" role=\"alert\">\(HTML.escape(message))</p>" }
        // The retried job may be on a later page: read by id, shown only for the operator's tenants.
        if let retried = q["retried"], retried.utf8.count <= 200,
            let job = try? await console.catalog.queue.job(id: retried), session.account.role(in: job.tenantId) != nil
        {
            body += "<p class=\"ok\" role=\"status\">Job <code>\(HTML.escape(retried))</code> is queued again (audited).</p>"
        }
        body += filters(tenants: tenants, tenant: tenantFilter, state: state)
        let shown = jobs
        guard !shown.isEmpty else {
            body += "<p>No jobs match.</p>"
            return .html(status, ConsoleLayout.page(title: "Jobs", session: session, body: body))
        }
        body += """
            <table class="jobs"><caption>Jobs, newest first</caption>
            <thead><tr><th scope="col">Job</th><th scope="col">Call</th><th scope="col">Tenant</th><th scope="col">Engine</th>
            <th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last error</th>
            <th scope="col">Queued (UTC)</th><th scope="col">Changed (UTC)</th><th scope="col">Runs after (UTC)</th>
            <th scope="col">Action</th></tr></thead><tbody>
            """
        for job in shown {
            body += """
                <tr id="job-\(HTML.escape(job.id))"><td><code>\(HTML.escape(job.id))</code></td>
                <td><a href="/calls/\(FormEncoding.escape(job.callId))">\(HTML.escape(job.callId))</a></td>
                <td>\(HTML.escape(names[job.tenantId] ?? job.tenantId))</td><td>\(HTML.escape(job.engine))</td>
                <td><span class="job-state job-\(job.state.rawValue)">\(job.state.rawValue)</span></td><td>\(job.attempts)</td>
                <td>\(HTML.escape(job.lastError ?? ""))</td><td>\(ConsoleFormat.time(job.createdAt))</td>
                <td>\(ConsoleFormat.time(job.updatedAt))</td><td>\(ConsoleFormat.time(job.runAfter))</td>
                <td>\(action(job))</td></tr>
                """
        }
        body += "</tbody></table>"
        if more, let last = jobs.last {
            let next = FormEncoding.query([
                ("tenant", tenantFilter), ("state", state?.rawValue),
                ("after", "\(Int64((last.createdAt.timeIntervalSince1970 * 1_000_000).rounded()))_\(last.id)"),
            ])
            body += "<p class=\"pager\"><a href=\"/jobs\(HTML.escape(next))\" rel=\"next\">Older jobs</a></p>"
        }
        if q["after"] != nil { body += "<p class=\"pager\"><a href=\"/jobs\">Back to the newest</a></p>" }
        return .html(status, ConsoleLayout.page(title: "Jobs", session: session, body: body))
    }

    /// The retry button, for an administrator of the job's tenant and a job the queue would retry.
    private func action(_ job: JobRecord) -> String {
        guard Self.retryable.contains(job.state), session.account.role(in: job.tenantId) == .admin else { return "" }
        return """
            <form method="post" action="/jobs/\(FormEncoding.escape(job.id))/retry" class="inline">
            <input type="hidden" name="csrf" value="\(HTML.escape(session.csrfToken))">
            <button type="submit" aria-label="Retry job \(HTML.escape(job.id))">Retry</button></form>
            """
    }

    /// `POST /jobs/ID/retry`: 404 for a job of another tenant (or none), 403 below admin.
    func retry(jobID: String, request: ConsoleRequest) async -> ConsoleResponse {
        let job: JobRecord?
        do {
            job = jobID.utf8.count <= 200 ? try await console.catalog.queue.job(id: jobID) : nil
        } catch {
            return .problem(503, "Job queue unavailable", error.message, session: session)
        }
        guard let job, let role = session.account.role(in: job.tenantId) else { return .notFound(session: session) }
        guard role == .admin else {
            return .problem(403, "Forbidden", "Only an administrator of this tenant may retry its jobs.", session: session)
        }
        guard Self.retryable.contains(job.state) else {
            return await render(
                request, message: "Job \(job.id) is \(job.state.rawValue): only a dead, cancelled or failed job can be retried.",
                status: 409)
        }
        do {
            _ = try await console.catalog.queue.retry(jobID: job.id)
        } catch {
            return await render(request, message: "Job \(job.id) could not be retried: \(error.message)", status: 409)
        }
        do {
            _ = try await console.catalog.audit.append(.jobRetried(job, actor: Console.actor(session)))
        } catch {
            // The job is queued again; say the audit entry is missing rather than pretend it is there.
            console.logger.error("job retried but not audited", metadata: ["job": "\(job.id)", "error": "\(error.message)"])
            return .problem(
                500, "Retried, not audited",
                "Job \(job.id) is queued again, but its audit entry could not be written (\(error.message)).", session: session)
        }
        return .redirect("/jobs?retried=\(FormEncoding.escape(job.id))#job-\(FormEncoding.escape(job.id))")
    }

    private func filters(tenants: [Tenant], tenant: String?, state: JobState?) -> String {
        func option(_ value: String, _ label: String, selected: Bool) -> String {
            "<option value=\"\(HTML.escape(value))\"\(selected ? " selected" : "")>\(HTML.escape(label))</option>"
        }
        var tenantOptions = option("", "All my tenants", selected: tenant == nil)
        for each in tenants { tenantOptions += option(each.id, each.name, selected: tenant == each.id) }
        var stateOptions = option("", "Any", selected: state == nil)
        for each in JobState.allCases { stateOptions += option(each.rawValue, each.rawValue, selected: state == each) }
        return """
            <form method="get" action="/jobs" class="filters" role="search" aria-label="Filter jobs">
            <label for="j-tenant">Tenant</label><select id="j-tenant" name="tenant">\(tenantOptions)</select>
            <label for="j-state">State</label><select id="j-state" name="state">\(stateOptions)</select>
            <button type="submit">Filter</button>
            </form>
            """
    }

    /// `MICROSECONDS_ID`, the creation time and id of the last job of the page before (PostgreSQL's queue
    /// keeps microseconds).
    static func cursor(_ text: String) -> (createdAt: Date, id: String)? {
        let parts = text.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, let us = Int64(parts[0]), parts[1].utf8.count <= 200 else { return nil }
        return (Date(timeIntervalSince1970: Double(us) / 1_000_000), String(parts[1]))
    }
}
