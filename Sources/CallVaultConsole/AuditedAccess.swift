import CallVaultModel
import Foundation

/// What an agent gives before the console decrypts anything of a call for them — playback or a
/// download: a reason (1–500 bytes, kept in the audit log) and, for a restricted recording (GDPR
/// Art. 18), an override reason (audited `recording.restriction_overridden`). Viewers are refused.
struct AuditedAccess {
    let reason: String
    let restrictionOverride: RestrictionOverride?

    /// 403 for an operator below agent in the call's tenant (checked first, before the catalog is asked
    /// anything more); nil for an agent or admin.
    static func refusedBelowAgent(_ call: CallRecord, session: ConsoleSession) -> ConsoleResponse? {
        guard let role = session.account.role(in: call.tenantId), role >= .agent else {
            return .problem(
                403,
                "Forbidden",
                "Viewers may not play or download recordings or transcripts.",
                session: session
            )
        }
        return nil
    }

    /// The reason and override of the request's form, or the response refusing them: 403 below agent,
    /// 400 without a reason or with an override reason too long, 403 (the call page, saying why) when
    /// `restricted` and no override was given — all before anything is decrypted.
    /// - Parameter doing: what the operator asked for, in the messages (`listening`, `downloading`).
    static func check(
        call: CallRecord,
        restricted: Bool,
        request: ConsoleRequest,
        doing: String,
        console: Console,
        session: ConsoleSession
    ) async -> Result<AuditedAccess, ConsoleFailure> {
        if let refused = refusedBelowAgent(call, session: session) {
            return .failure(ConsoleFailure(response: refused))
        }
        let form = request.form
        let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.utf8.count <= 500 else {
            var page = await CallPage(console: console, session: session).render(
                callID: call.id,
                request: request,
                message: "Give a reason for \(doing) (1 to 500 characters)."
            )
            page.status = 400
            return .failure(ConsoleFailure(response: page))
        }
        let overrideText = (form["override"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let restrictionOverride = overrideText.isEmpty ? nil : RestrictionOverride(reason: overrideText)
        if let restrictionOverride, !restrictionOverride.isValid {
            return .failure(
                ConsoleFailure(
                    response: .problem(
                        400,
                        "Bad override reason",
                        "An override reason has 1 to 500 characters.",
                        session: session
                    )
                )
            )
        }
        // Checked before anything is decrypted, so a refusal decrypts nothing (the stores check too).
        if restrictionOverride == nil, restricted {
            var page = await CallPage(console: console, session: session).render(
                callID: call.id,
                request: request,
                message: "A recording of this call is restricted: give an override reason (audited) before \(doing)."
            )
            page.status = 403
            return .failure(ConsoleFailure(response: page))
        }
        return .success(AuditedAccess(reason: reason, restrictionOverride: restrictionOverride))
    }
}
