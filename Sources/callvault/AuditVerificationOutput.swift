import CallVaultArchive
import CallVaultModel
import Foundation

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
    /// With `--against-objects`: what the newest anchor in the object store says.
    var anchor: Anchor?

    /// `{"status":"matches"|"none"|"mismatch","seq","hash","at","message"}`.
    struct Anchor: Encodable {
        let status: String
        let seq: Int64?
        let hash: String?
        let at: Date?
        let message: String

        init(_ check: AuditAnchors.Check) {
            switch check {
            case .matches(let anchor):
                (status, seq, hash, at) = ("matches", anchor.seq, anchor.hash, anchor.at)
                message = "audit anchor matches: entry \(anchor.seq) has the hash anchored in the object store at \(anchor.at)"
            case .noAnchor:
                (status, seq, hash, at) = ("none", nil, nil, nil)
                message = "no audit anchor in the object store yet (serve writes one every --audit-anchor-seconds)"
            case .mismatch(let anchor, let reason):
                (status, seq, hash, at) = ("mismatch", anchor.seq, anchor.hash, anchor.at)
                message = "audit anchor mismatch: \(reason)"
            }
        }
    }

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
