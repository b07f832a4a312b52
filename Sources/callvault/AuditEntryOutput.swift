import CallVaultModel
import Foundation

/// An audit entry as `audit list --json` prints it: details as a JSON object, hashes in hex.
struct AuditEntryOutput: Encodable {
    let seq: Int64
    let at: Date
    let actor: String
    let action: String
    let tenantId: String?
    let subjectId: String?
    let details: [String: String]
    let prevHash: String
    let hash: String

    init(_ entry: AuditEntry) {
        seq = entry.seq
        at = entry.at
        actor = entry.actor
        action = entry.action.rawValue
        tenantId = entry.tenantId
        subjectId = entry.subjectId
        details = entry.detailValues
        prevHash = Self.hex(entry.prevHash)
        hash = Self.hex(entry.hash)
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
