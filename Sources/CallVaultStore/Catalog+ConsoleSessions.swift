public import CallVaultModel
public import Foundation
internal import GRDB

extension Catalog {
    public func startConsoleSession(
        id: String, operatorName: String, details: [String: String], idleBefore: Date, at: Date
    ) throws(CatalogError) {
        try ConsoleSessionChecks.check(id: id)
        let at = at.catalogPrecision
        try write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE last_seen_at < ?", arguments: [idleBefore.catalogPrecision])
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM operators WHERE name = ?", arguments: [operatorName]) ?? 0 > 0
            else { throw CatalogError(.notFound, "no operator named \(operatorName)") }
            try db.execute(
                sql: "INSERT INTO console_sessions (id, operator_name, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
                arguments: [id, operatorName, at, at])
            try AuditLog.append(
                in: db, actor: "console:\(operatorName)", action: .operatorSignedIn, subjectID: operatorName,
                details: details, at: at)
        }
    }

    public func touchConsoleSession(id: String, idleBefore: Date, refreshBefore: Date, at: Date) throws(CatalogError)
        -> String?
    {
        guard ConsoleSessionChecks.isValid(id: id) else { return nil }
        let idleBefore = idleBefore.catalogPrecision
        let found = try read { db in
            try Row.fetchOne(db, sql: "SELECT operator_name, last_seen_at FROM console_sessions WHERE id = ?", arguments: [id])
                .map { (name: $0["operator_name"] as String, lastSeen: $0["last_seen_at"] as Date) }
        }
        guard let found else { return nil }
        if found.lastSeen < idleBefore {
            try write { db in try db.execute(sql: "DELETE FROM console_sessions WHERE id = ?", arguments: [id]) }
            return nil
        }
        if found.lastSeen < refreshBefore {
            try write { db in
                try db.execute(
                    sql: "UPDATE console_sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?",
                    arguments: [at.catalogPrecision, id, at.catalogPrecision])
            }
        }
        return found.name
    }

    public func endConsoleSessions(id: String?, operatorName: String?, actor: String, at: Date) throws(CatalogError) -> Int {
        try ConsoleSessionChecks.check(id: id, operatorName: operatorName)
        return try write { db in
            guard
                let owner = try id.map({ id in
                    try String.fetchOne(db, sql: "SELECT operator_name FROM console_sessions WHERE id = ?", arguments: [id])
                }) ?? operatorName
            else { return 0 }
            if let id {
                try db.execute(sql: "DELETE FROM console_sessions WHERE id = ?", arguments: [id])
            } else {
                try db.execute(sql: "DELETE FROM console_sessions WHERE operator_name = ?", arguments: [owner])
            }
            let ended = db.changesCount
            if ended > 0 {
                try AuditLog.append(
                    in: db, actor: actor, action: .operatorSignedOut, subjectID: owner, details: ["sessions": "\(ended)"],
                    at: at.catalogPrecision)
            }
            return ended
        }
    }
}

extension Catalog {
    public func grantConsolePlayback(
        sessionID: String, callID: String, reason: String, overrideReason: String?, expires: Date
    ) throws(CatalogError) {
        try ConsoleSessionChecks.check(id: sessionID)
        try write { db in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM console_sessions WHERE id = ?", arguments: [sessionID]) ?? 0 > 0
            else { throw CatalogError(.notFound, "the console session has ended") }
            try db.execute(
                sql: """
                    INSERT INTO console_playback_grants (session_id, call_id, reason, override_reason, expires_at)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (session_id) DO UPDATE SET call_id = excluded.call_id, reason = excluded.reason,
                        override_reason = excluded.override_reason, expires_at = excluded.expires_at
                    """,
                arguments: [sessionID, callID, reason, overrideReason, expires.catalogPrecision])
        }
    }

    public func consolePlayback(sessionID: String, callID: String, at: Date, extendTo: Date) throws(CatalogError)
        -> ConsolePlaybackGrant?
    {
        guard ConsoleSessionChecks.isValid(id: sessionID) else { return nil }
        let at = at.catalogPrecision
        let found = try read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM console_playback_grants WHERE session_id = ? AND call_id = ? AND expires_at > ?",
                arguments: [sessionID, callID, at]
            ).map {
                ConsolePlaybackGrant(
                    callID: $0["call_id"], reason: $0["reason"], overrideReason: $0["override_reason"], expires: $0["expires_at"])
            }
        }
        guard let found else { return nil }
        guard extendTo > found.expires else { return found }
        let extended = extendTo.catalogPrecision
        try write { db in
            try db.execute(
                sql: "UPDATE console_playback_grants SET expires_at = ? WHERE session_id = ? AND call_id = ? AND expires_at < ?",
                arguments: [extended, sessionID, callID, extended])
        }
        return ConsolePlaybackGrant(callID: found.callID, reason: found.reason, overrideReason: found.overrideReason, expires: extended)
    }
}

extension Catalog {
    public func consoleSignInLockedUntil(name: String, address: String, at: Date) throws(CatalogError) -> Date? {
        let at = at.catalogPrecision
        return try read { db in
            try Date.fetchOne(
                db, sql: "SELECT locked_until FROM console_sign_in_failures WHERE name = ? AND address = ? AND locked_until > ?",
                arguments: [SignInLockout.key(name), SignInLockout.key(address), at])
        }
    }

    public func recordConsoleSignInFailure(name: String, address: String, rule: SignInLockout, at: Date) throws(CatalogError)
        -> Date?
    {
        let (name, address, at) = (SignInLockout.key(name), SignInLockout.key(address), at.catalogPrecision)
        return try write { db in
            try db.execute(
                sql: "DELETE FROM console_sign_in_failures WHERE last_failure_at < ? AND (locked_until IS NULL OR locked_until < ?)",
                arguments: [at - 86_400, at])
            try db.execute(
                sql: """
                    INSERT INTO console_sign_in_failures (name, address, failures, last_failure_at) VALUES (?, ?, 1, ?)
                    ON CONFLICT (name, address) DO UPDATE SET failures = failures + 1, last_failure_at = excluded.last_failure_at
                    """,
                arguments: [name, address, at])
            let failures = try Int.fetchOne(
                db, sql: "SELECT failures FROM console_sign_in_failures WHERE name = ? AND address = ?", arguments: [name, address]) ?? 1
            guard let wait = rule.lockout(afterFailures: failures) else { return nil }
            let until = (at + wait).catalogPrecision
            try db.execute(
                sql: "UPDATE console_sign_in_failures SET locked_until = ? WHERE name = ? AND address = ?",
                arguments: [until, name, address])
            return until
        }
    }

    public func clearConsoleSignInFailures(name: String, address: String) throws(CatalogError) {
        try write { db in
            try db.execute(
                sql: "DELETE FROM console_sign_in_failures WHERE name = ? AND address = ?",
                arguments: [SignInLockout.key(name), SignInLockout.key(address)])
        }
    }
}

/// The rules both catalogs apply to console session calls.
enum ConsoleSessionChecks {
    /// A session id is the SHA-256 of the cookie's token in lowercase hex: 64 characters.
    static func isValid(id: String) -> Bool {
        id.utf8.count == 64 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    static func check(id: String) throws(CatalogError) {
        guard isValid(id: id) else {
            throw CatalogError(.invalidArgument, "a console session id is 64 lowercase hex digits (the SHA-256 of its token)")
        }
    }

    static func check(id: String?, operatorName: String?) throws(CatalogError) {
        guard (id == nil) != (operatorName == nil) else {
            throw CatalogError(.invalidArgument, "end one session (its id) or an operator's sessions (the name), not both or neither")
        }
        if let id { try check(id: id) }
    }
}
