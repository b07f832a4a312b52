import CallVaultModel

/// `audit verify --json`: `{"status":"ok","entries","headHash"}` or
/// `{"status":"broken","seq","reason","verifiedEntries","message"}`.
struct AuditVerificationOutput: Encodable {
    let status: String
    let entries: Int?
    let headHash: String?
    let seq: Int64?
    let reason: AuditBreak?
    let verifiedEntries: Int?
    let message: String

    init(_ verification: AuditVerification) {
        switch verification {
        case .intact(let count, let head):
            status = "ok"
            entries = count
            headHash = AuditEntryOutput.hex(head)
            seq = nil
            reason = nil
            verifiedEntries = nil
            message = "audit log intact: \(count) entries, head hash \(AuditEntryOutput.hex(head))"
        case .broken(let brokenSeq, let why, let verified):
            status = "broken"
            entries = nil
            headHash = nil
            seq = brokenSeq
            reason = why
            verifiedEntries = verified
            message = "audit log broken at entry \(brokenSeq): " + Self.explain(why)
        }
    }

    static func explain(_ reason: AuditBreak) -> String {
        switch reason {
        case .edited: "its content no longer matches its hash (changed in place)"
        case .removed: "this entry is missing (deleted)"
        case .reordered: "it links to an entry found elsewhere in the log (entries moved or swapped)"
        case .chainBroken: "it links to no entry in the log (an earlier entry was deleted or rewritten)"
        }
    }
}
