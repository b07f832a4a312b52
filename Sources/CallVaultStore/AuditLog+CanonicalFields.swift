import CallVaultModel
import Foundation
internal import GRDB

extension AuditLog {
    /// An entry ready to be stored at `seq` after `prevHash`: its canonical fields, its hash and the
    /// entry as it reads back. Both audit backends build entries here, so they hash alike.
    struct Sealed {
        let fields: CanonicalFields
        let hash: [UInt8]
        let entry: AuditEntry

        init(
            seq: Int64, prevHash: [UInt8], actor: String, action: AuditAction, tenantID: String?, subjectID: String?,
            details: [String: String], at: Date
        ) throws {
            let fields = try CanonicalFields(
                actor: actor, action: action, tenantID: tenantID, subjectID: subjectID, details: details, at: at)
            let hash = AuditLog.entryHash(prevHash: prevHash, fields: fields)
            self.fields = fields
            self.hash = hash
            self.entry = fields.entry(seq: seq, prevHash: prevHash, hash: hash, fallbackTime: at)
        }
    }

    /// An entry's hash: SHA-256 of the previous entry's hash and the entry's canonical encoding.
    static func entryHash(prevHash: [UInt8], fields: CanonicalFields) -> [UInt8] {
        CatalogHash.sha256(prevHash + fields.encoded())
    }

    /// The time as the log stores and hashes it: `yyyy-MM-dd HH:mm:ss.SSS` in UTC (the catalog's text
    /// form of a date), on both backends.
    static func canonicalTime(_ date: Date) -> String {
        String.fromDatabaseValue(date.databaseValue) ?? ""
    }

    /// The date a stored time text stands for (nil if it is not one).
    static func storedTime(_ text: String) -> Date? {
        Date.fromDatabaseValue(text.databaseValue)
    }

    /// The hashed form of an entry: a domain tag, then each field as a 4-byte big-endian length and
    /// its UTF-8 bytes (a missing optional is the length 0xFFFFFFFF), so no two different entries
    /// serialize alike and the order of fields is fixed.
    ///
    /// `seq` is deliberately not hashed: position is proven by the chain of `prevHash` links,
    /// which lets ``verify()`` tell an entry moved elsewhere (its link points to a hash present in
    /// the log) from one rewritten in place.
    struct CanonicalFields {
        static let domainTag = Array("callvault-audit-v1".utf8)

        let at: String
        let actor: String
        let action: String
        let tenantID: String?
        let subjectID: String?
        let details: String

        init(at: String, actor: String, action: String, tenantID: String?, subjectID: String?, details: String) {
            self.at = at
            self.actor = actor
            self.action = action
            self.tenantID = tenantID
            self.subjectID = subjectID
            self.details = details
        }

        /// The fields of a new entry: its time as stored (millisecond text, UTC) and its details as
        /// canonical JSON.
        init(
            actor: String, action: AuditAction, tenantID: String?, subjectID: String?, details: [String: String],
            at: Date
        ) throws {
            self.init(
                at: AuditLog.canonicalTime(at), actor: actor, action: action.rawValue, tenantID: tenantID,
                subjectID: subjectID, details: try AuditLog.canonicalJSON(details))
        }

        /// The entry these fields make at `seq`, after `prevHash`, hashed `hash`.
        func entry(seq: Int64, prevHash: [UInt8], hash: [UInt8], fallbackTime: Date) -> AuditEntry {
            AuditEntry(
                seq: seq, at: AuditLog.storedTime(at) ?? fallbackTime, actor: actor,
                action: AuditAction(rawValue: action), tenantId: tenantID, subjectId: subjectID, details: details,
                prevHash: Data(prevHash), hash: Data(hash))
        }

        /// Reads the fields from a raw row; nil if a column holds a value of the wrong type.
        init?(row: Row) {
            guard let at = String.fromDatabaseValue(row["at"] as DatabaseValue),
                let actor = String.fromDatabaseValue(row["actor"] as DatabaseValue),
                let action = String.fromDatabaseValue(row["action"] as DatabaseValue),
                let details = String.fromDatabaseValue(row["details"] as DatabaseValue)
            else { return nil }
            let tenant: DatabaseValue = row["tenant_id"]
            let subject: DatabaseValue = row["subject_id"]
            guard tenant.isNull || String.fromDatabaseValue(tenant) != nil,
                subject.isNull || String.fromDatabaseValue(subject) != nil
            else { return nil }
            self.init(
                at: at,
                actor: actor,
                action: action,
                tenantID: String.fromDatabaseValue(tenant),
                subjectID: String.fromDatabaseValue(subject),
                details: details
            )
        }

        func encoded() -> [UInt8] {
            var bytes = Self.domainTag
            for field in [at, actor, action, tenantID, subjectID, details] {
                if let field {
                    let utf8 = Array(field.utf8)
                    let count = UInt32(utf8.count)
                    bytes += [
                        UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF),
                    ]
                    bytes += utf8
                } else {
                    bytes += [0xFF, 0xFF, 0xFF, 0xFF]
                }
            }
            return bytes
        }
    }
}
