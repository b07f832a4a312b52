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

    /// `POST /subjects/export`: the ZIP as a download. The exporter writes files only, so it writes into
    /// a private (0700) temporary folder that is removed before the response leaves, whatever happens.
    func export(_ request: ConsoleRequest) async -> ConsoleResponse {
        let (subject, tenant): (ConsoleSessions.SubjectLookup, Tenant)
        switch await current() {
        case .success(let found): (subject, tenant) = found
        case .failure(let failure): return failure.response
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("callvault-subject-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            return .problem(500, "Export failed", "A private temporary folder could not be made: \(error.localizedDescription)", session: session)
        }
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("export.zip").path
        let exporter = console.exporter
        let export = SubjectExport(
            catalog: console.catalog, keyStore: exporter.keyStore, dataDirectory: exporter.dataDirectory, logger: console.logger,
            objects: exporter.objects)
        let receipt: SubjectExport.Receipt
        let zip: [UInt8]
        do {
            receipt = try await export.export(
                tenantID: tenant.id, phoneNumber: subject.phoneNumber, to: path,
                options: SubjectExport.Options(actor: Console.actor(session)))
            zip = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch let error as RetentionError {
            return .problem(error.code == .notFound ? 404 : 500, "Export failed", error.message + ".", session: session)
        } catch {
            return .problem(500, "Export failed", "The archive was written but could not be read back: \(error.localizedDescription)", session: session)
        }
        return ConsoleResponse(
            status: 200, contentType: "application/zip", body: zip,
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
