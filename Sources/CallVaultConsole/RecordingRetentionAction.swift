import CallVaultModel
import CallVaultRetention
import CallVaultStore
import Foundation

/// An administrator's legal hold and restriction of one recording, through the same doors as the CLI:
/// ``LegalHold`` (`callvault hold set|clear`: the key re-wrapped under the tenant's hold key, then the
/// catalog, audited `hold.set`/`hold.cleared`) and the catalog's `setRestricted`
/// (`callvault recordings restrict [--lift]`, audited `recording.restricted`/`recording.unrestricted`),
/// with the operator as actor. A recording of another tenant answers 404; below admin, 403.
struct RecordingRetentionAction {
    let console: Console
    let session: ConsoleSession
    static let maximumReasonBytes = 500

    enum Kind { case hold, restrict }

    func perform(_ kind: Kind, recordingID: String, request: ConsoleRequest) async -> ConsoleResponse {
        let recording: RecordingRecord
        do {
            guard recordingID.utf8.count <= 200 else { return .notFound(session: session) }
            recording = try await console.catalog.recording(id: recordingID, tenantID: nil)
        } catch {
            if error.code == .notFound { return .notFound(session: session) }
            return .problem(503, "Catalog unavailable", error.message, session: session)
        }
        guard let role = session.account.role(in: recording.tenantId) else { return .notFound(session: session) }
        guard role == .admin else {
            return .problem(
                403, "Forbidden", "Only an administrator of this tenant may hold or restrict its recordings.", session: session)
        }
        let form = request.form
        let lift: Bool
        switch form["action"] {
        case "set": lift = false
        case "lift": lift = true
        default: return await page(request, "Choose to set or to lift.", status: 400)
        }
        let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        // Lifting a hold takes no reason, as `callvault hold clear` takes none (the catalog keeps none).
        if !(kind == .hold && lift), reason.isEmpty || reason.utf8.count > Self.maximumReasonBytes {
            return await page(request, "Give a reason (1 to \(Self.maximumReasonBytes) characters): nothing was changed.", status: 400)
        }
        let actor = Console.actor(session)
        switch kind {
        case .hold:
            let hold = LegalHold(catalog: console.catalog, keyStore: console.exporter.keyStore)
            do {
                if lift {
                    _ = try await hold.clear(recordingID: recording.id, actor: actor)
                } else {
                    _ = try await hold.set(recordingID: recording.id, reason: reason, actor: actor)
                }
            } catch {
                return await page(request, "Recording \(recording.id): \(error.message)", status: 409)
            }
        case .restrict:
            do {
                try await console.catalog.setRestricted(recordingID: recording.id, !lift, reason: reason, actor: actor, at: Date())
            } catch {
                return await page(request, "Recording \(recording.id): \(error.message)", status: 409)
            }
        }
        return .redirect("/retention?changed=\(FormEncoding.escape(recording.id))#rec-\(FormEncoding.escape(recording.id))")
    }

    private func page(_ request: ConsoleRequest, _ message: String, status: Int) async -> ConsoleResponse {
        await RetentionPage(console: console, session: session).render(request, message: message, status: status)
    }
}
