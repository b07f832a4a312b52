import CallVaultCrypto
import CallVaultModel
import CallVaultRetention
import CallVaultStore
import Foundation

/// Export and erasure of the caller the session looked up on ``SubjectRequestsPage``, through the same
/// types `callvault subject export` and `erase` call (`SubjectExport`, `SubjectErasure`), audited with
/// the operator as `console:NAME`.
///
/// The CLI erases at once; a browser button is easier to press by mistake, so the console asks for a
/// code shown on the page after the first POST and typed back in a second. A wrong code changes nothing.
struct SubjectRequestActions {
    let console: Console
    let session: ConsoleSession

    /// The session's looked-up caller and its tenant, still administered by the operator.
    private func current() async -> Result<(ConsoleSessions.SubjectLookup, Tenant), ConsoleFailure> {
        guard session.account.administersAnyTenant else {
            return .failure(ConsoleFailure(response: .problem(403, "Forbidden", SubjectRequestsPage.forbidden, session: session)))
        }
        guard let subject = console.sessions.subject(key: session.key) else {
            return .failure(
                ConsoleFailure(
                    response: .problem(
                        409, "Look the caller up again",
                        "No caller is looked up in this session (a lookup lasts \(Self.minutes(console.configuration.subjectLifetime)) minutes): find the caller on the data-subject requests page first.",
                        session: session)))
        }
        switch await console.administeredTenant(subject.tenantID, session: session) {
        case .success(let tenant): return .success((subject, tenant))
        case .failure(let failure): return .failure(failure)
        }
    }

    /// `POST /subjects/export`: the ZIP as a download. With `restricted` checked, restricted recordings are
    /// included as `callvault subject export --include-restricted --override-reason` does — the same
    /// `SubjectExport.Options`, so each one is audited `recording.restriction_overridden` with the reason —
    /// and the reason (`override`, 1–500 bytes) is required: the console has no default reason, an operator
    /// says why. The exporter writes files only, so it writes into a private (0700) temporary folder; the
    /// ZIP (0600) is opened and the folder removed before the response leaves, and the body is read from the
    /// open file a chunk at a time as it is sent (``ConsoleFileBody``).
    func export(_ request: ConsoleRequest) async -> ConsoleResponse {
        let (subject, tenant): (ConsoleSessions.SubjectLookup, Tenant)
        switch await current() {
        case .success(let found): (subject, tenant) = found
        case .failure(let failure): return failure.response
        }
        var options = SubjectExport.Options(actor: Console.actor(session))
        if request.form["restricted"] != nil {
            let reason = (request.form["override"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !reason.isEmpty, reason.utf8.count <= 500 else {
                return .problem(
                    400, "Reason needed",
                    "Including restricted recordings overrides their restriction (GDPR Art. 18): say why in the override reason (1–500 characters). Nothing was exported.",
                    session: session)
            }
            options.includeRestricted = true
            options.overrideReason = reason
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("callvault-subject-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            return .problem(500, "Export failed", "A private temporary folder could not be made: \(error.localizedDescription)", session: session)
        }
        let path = folder.appendingPathComponent("export.zip").path
        let exporter = console.exporter
        let export = SubjectExport(
            catalog: console.catalog, keyStore: exporter.keyStore, dataDirectory: exporter.dataDirectory, logger: console.logger,
            objects: exporter.objects)
        let receipt: SubjectExport.Receipt
        let file: ConsoleFileBody
        do {
            receipt = try await export.export(tenantID: tenant.id, phoneNumber: subject.phoneNumber, to: path, options: options)
            // Opening removes the folder; from here the bytes live only behind the open descriptor.
            file = try ConsoleFileBody(path: path, removing: folder)
        } catch let error as RetentionError {
            try? FileManager.default.removeItem(at: folder)
            return .problem(error.code == .notFound ? 404 : 500, "Export failed", error.message + ".", session: session)
        } catch let error as ConsoleFileBody.Failure {
            return .problem(500, "Export failed", error.message + ".", session: session)
        } catch {
            try? FileManager.default.removeItem(at: folder)
            return .problem(500, "Export failed", "\(error)", session: session)
        }
        return ConsoleResponse(
            status: 200, contentType: "application/zip", file: file,
            headers: [("content-disposition", "attachment; filename=\"\(receipt.exportId).zip\"")])
    }

    /// `POST /subjects/erase`: without `confirmation`, shows what will be erased and a fresh code; with
    /// it, erases if the code is the one shown (single use), and shows the erasure's receipt.
    func erase(_ request: ConsoleRequest) async -> ConsoleResponse {
        let (subject, tenant): (ConsoleSessions.SubjectLookup, Tenant)
        switch await current() {
        case .success(let found): (subject, tenant) = found
        case .failure(let failure): return failure.response
        }
        guard let typed = request.form["confirmation"] else { return await ask(subject, tenant: tenant) }
        guard let expected = subject.erasureCode,
            ConstantTime.equals(Array(Self.normalized(typed).utf8), Array(Self.normalized(expected).utf8))
        else {
            return await ask(subject, tenant: tenant, message: "The code does not match; nothing was erased. Type the new code below.", status: 400)
        }
        console.sessions.forgetSubject(key: session.key)
        let exporter = console.exporter
        let erasure = SubjectErasure(
            catalog: console.catalog, keyStore: exporter.keyStore, dataDirectory: exporter.dataDirectory, logger: console.logger,
            objects: exporter.objects)
        let receipt: SubjectErasure.Receipt
        do { receipt = try await erasure.erase(tenantID: tenant.id, phoneNumber: subject.phoneNumber, actor: Console.actor(session)) } catch {
            return .problem(500, "Erasure failed", error.message + ". Look the caller up and erase again to finish.", session: session)
        }
        return .html(
            receipt.failures.isEmpty ? 200 : 500,
            ConsoleLayout.page(title: "Erasure done", session: session, body: Self.receipt(receipt, tenant: tenant)))
    }

    /// The confirmation step: what will be erased, and a new code to type back.
    private func ask(
        _ subject: ConsoleSessions.SubjectLookup, tenant: Tenant, message: String? = nil, status: Int = 200
    ) async -> ConsoleResponse {
        let findings: SubjectRequestsPage.Findings
        switch await SubjectRequestsPage.find(tenant: tenant, phoneNumber: subject.phoneNumber, console: console) {
        case .success(let found): findings = found
        case .failure(let failure): return .problem(failure.status, "Lookup failed", failure.message, session: session)
        }
        let code: String
        do { code = try Self.newCode() } catch {
            return .problem(500, "No random code", "The system's random source failed: \(error.message).", session: session)
        }
        guard console.sessions.setErasureCode(key: session.key, code) else {
            return .problem(409, "Look the caller up again", "The lookup has expired: find the caller again.", session: session)
        }
        let live = findings.recordings.filter { $0.state != .shredded }
        let held = live.filter(\.hold)
        var body = "<h1>Confirm the erasure</h1>"
        if let message { body += "<p class=\"error\" role=\"alert\">\(HTML.escape(message))</p>" }
        body += """
            <p>In \(HTML.escape(tenant.name)), for the caller you looked up: \(findings.calls.count) call(s);
            \(live.count - held.count) recording(s) and \(findings.transcripts.filter { $0.state != .shredded }.count) transcript(s)
            will be crypto-erased (their keys destroyed; this cannot be undone)\(held.isEmpty ? "" : "; \(held.count) recording(s) under legal hold are kept").</p>
            <form method="post" action="/subjects/erase">
            <input type="hidden" name="csrf" value="\(HTML.escape(session.csrfToken))">
            <label for="e-code">Type <strong class="code">\(code)</strong> to confirm</label>
            <input id="e-code" name="confirmation" required autocomplete="off" maxlength="16">
            <button type="submit">Erase now</button>
            </form>
            <p><a href="/subjects?tenant=\(FormEncoding.escape(tenant.id))">Cancel</a></p>
            """
        return .html(status, ConsoleLayout.page(title: "Confirm the erasure", session: session, body: body))
    }

    /// What `callvault subject erase` prints, as a page.
    static func receipt(_ receipt: SubjectErasure.Receipt, tenant: Tenant) -> String {
        var body = """
            <h1>Erasure done</h1>
            <p role="status">Erased in \(HTML.escape(tenant.name)): \(receipt.recordingsErased.count) recording(s),
            \(receipt.transcriptsErased.count) transcript(s) in \(receipt.calls.count) call(s) (audited <code>subject.erased</code>).</p>
            <dl class="facts"><dt>Confirmation code</dt><dd><strong class="code">\(HTML.escape(receipt.confirmationCode))</strong>
            (quote it to the data subject; the audit log holds it)</dd></dl>
            """
        if !receipt.recordingsHeld.isEmpty {
            body += "<p>Kept under legal hold: \(receipt.recordingsHeld.map { "<code>\(HTML.escape($0))</code>" }.joined(separator: ", ")).</p>"
        }
        for failure in receipt.failures {
            body += "<p class=\"error\" role=\"alert\">Not finished: <code>\(HTML.escape(failure.recordingID))</code>: \(HTML.escape(failure.reason)) (look the caller up and erase again).</p>"
        }
        if !receipt.providerKeysPending.isEmpty {
            body += "<p class=\"error\">Not yet backup-proof: the key provider has not destroyed \(receipt.providerKeysPending.count) replaced day key(s); run <code>callvault sweep</code> when it answers.</p>"
        } else if !receipt.backupProof {
            body += "<p class=\"note\">On the local key provider a backup holding keys.sqlite and the root key can open the erased data until its day key expires.</p>"
        } else if receipt.dayKeysRegenerated > 0 {
            body += "<p>Backup-proof: \(receipt.dayKeysRegenerated) day key(s) regenerated, \(receipt.dataKeysRewrapped) other data key(s) re-wrapped.</p>"
        }
        return body
    }

    /// Eight characters in two groups, from an alphabet without look-alikes (40 bits).
    static func newCode() throws(CryptoError) -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        let letters = try SecureRandom.bytes(8).map { alphabet[Int($0 & 31)] }
        return String(letters[0..<4]) + "-" + String(letters[4..<8])
    }

    /// The code as typed, without case, spaces or dashes.
    static func normalized(_ code: String) -> String {
        code.uppercased().filter { $0 != "-" && $0 != " " }
    }

    static func minutes(_ duration: Duration) -> Int64 { duration.components.seconds / 60 }
}
