public import CallVaultModel
public import Foundation
internal import PostgresNIO

extension PostgresCatalog {
    public func startConsoleSession(
        id: String, operatorName: String, details: [String: String], idleBefore: Date, at: Date
    ) async throws(CatalogError) {
        try ConsoleSessionChecks.check(id: id)
        let at = at.postgresPrecision
        let event = AuditEvent(
            actor: "console:\(operatorName)", action: .operatorSignedIn, subjectID: operatorName, details: details, at: at)
        try await transaction("start a console session of \(operatorName)") { connection in
            try await connection.query(
                "DELETE FROM console_sessions WHERE last_seen_at < \(idleBefore.postgresPrecision)", logger: self.logger)
            var known = false
            for try await _ in try await connection.query(
                "SELECT 1 FROM operators WHERE name = \(operatorName) FOR SHARE", logger: self.logger)
            {
                known = true
            }
            guard known else { throw CatalogError(.notFound, "no operator named \(operatorName)") }
            try await connection.query(
                """
                INSERT INTO console_sessions (id, operator_name, created_at, last_seen_at)
                VALUES (\(id), \(operatorName), \(at), \(at))
                """, logger: self.logger)
            try await self.appendAudit(event, on: connection)
        }
    }

    public func touchConsoleSession(id: String, idleBefore: Date, refreshBefore: Date, at: Date) async throws(CatalogError)
        -> String?
    {
        guard ConsoleSessionChecks.isValid(id: id) else { return nil }
        let idleBefore = idleBefore.postgresPrecision
        return try await perform("check a console session") {
            var found: (name: String, lastSeen: Date)?
            for try await (name, lastSeen) in try await self.client.query(
                "SELECT operator_name, last_seen_at FROM console_sessions WHERE id = \(id)", logger: self.logger
            ).decode((String, Date).self) {
                found = (name, lastSeen)
            }
            guard let found else { return nil }
            if found.lastSeen < idleBefore {
                try await self.client.query("DELETE FROM console_sessions WHERE id = \(id)", logger: self.logger)
                return nil
            }
            if found.lastSeen < refreshBefore {
                let at = at.postgresPrecision
                try await self.client.query(
                    "UPDATE console_sessions SET last_seen_at = \(at) WHERE id = \(id) AND last_seen_at < \(at)",
                    logger: self.logger)
            }
            return found.name
        }
    }

    public func endConsoleSessions(id: String?, operatorName: String?, actor: String, at: Date) async throws(CatalogError)
        -> Int
    {
        try ConsoleSessionChecks.check(id: id, operatorName: operatorName)
        let at = at.postgresPrecision
        return try await transaction("end console sessions") { connection in
            var owners: [String] = []
            let deleted =
                if let id {
                    try await connection.query(
                        "DELETE FROM console_sessions WHERE id = \(id) RETURNING operator_name", logger: self.logger)
                } else {
                    try await connection.query(
                        "DELETE FROM console_sessions WHERE operator_name = \(operatorName) RETURNING operator_name",
                        logger: self.logger)
                }
            for try await (owner) in deleted.decode(String.self) { owners.append(owner) }
            guard let owner = owners.first else { return 0 }
            try await self.appendAudit(
                AuditEvent(
                    actor: actor, action: .operatorSignedOut, subjectID: owner, details: ["sessions": "\(owners.count)"], at: at),
                on: connection)
            return owners.count
        }
    }

    public func grantConsolePlayback(
        sessionID: String, callID: String, reason: String, overrideReason: String?, expires: Date
    ) async throws(CatalogError) {
        try ConsoleSessionChecks.check(id: sessionID)
        let expires = expires.postgresPrecision
        try await perform("grant a console playback") {
            var granted = false
            for try await _ in try await self.client.query(
                """
                INSERT INTO console_playback_grants (session_id, call_id, reason, override_reason, expires_at)
                SELECT id, \(callID), \(reason), \(overrideReason), \(expires) FROM console_sessions WHERE id = \(sessionID)
                ON CONFLICT (session_id) DO UPDATE SET call_id = excluded.call_id, reason = excluded.reason,
                    override_reason = excluded.override_reason, expires_at = excluded.expires_at
                RETURNING session_id
                """, logger: self.logger)
            {
                granted = true
            }
            guard granted else { throw CatalogError(.notFound, "the console session has ended") }
        }
    }

    public func consolePlayback(sessionID: String, callID: String, at: Date, extendTo: Date) async throws(CatalogError)
        -> ConsolePlaybackGrant?
    {
        guard ConsoleSessionChecks.isValid(id: sessionID) else { return nil }
        let at = at.postgresPrecision
        let extendTo = extendTo.postgresPrecision
        return try await perform("check a console playback") {
            var found: ConsolePlaybackGrant?
            for try await (reason, overrideReason, expires) in try await self.client.query(
                """
                UPDATE console_playback_grants SET expires_at = GREATEST(expires_at, \(extendTo))
                WHERE session_id = \(sessionID) AND call_id = \(callID) AND expires_at > \(at)
                RETURNING reason, override_reason, expires_at
                """, logger: self.logger
            ).decode((String, String?, Date).self) {
                found = ConsolePlaybackGrant(callID: callID, reason: reason, overrideReason: overrideReason, expires: expires)
            }
            return found
        }
    }

    public func consoleSignInLockedUntil(name: String, address: String, at: Date) async throws(CatalogError) -> Date? {
        let (name, address, at) = (SignInLockout.key(name), SignInLockout.key(address), at.postgresPrecision)
        return try await perform("check a console sign-in lockout") {
            var until: Date?
            for try await (locked) in try await self.client.query(
                """
                SELECT locked_until FROM console_sign_in_failures
                WHERE name = \(name) AND address = \(address) AND locked_until > \(at)
                """, logger: self.logger
            ).decode(Date.self) {
                until = locked
            }
            return until
        }
    }

    public func recordConsoleSignInFailure(name: String, address: String, rule: SignInLockout, at: Date) async throws(CatalogError)
        -> Date?
    {
        let (name, address, at) = (SignInLockout.key(name), SignInLockout.key(address), at.postgresPrecision)
        let forgetBefore = at - 86_400
        return try await transaction("count a failed console sign-in") { connection in
            try await connection.query(
                """
                DELETE FROM console_sign_in_failures
                WHERE last_failure_at < \(forgetBefore) AND (locked_until IS NULL OR locked_until < \(at))
                """, logger: self.logger)
            var failures = 1
            for try await (count) in try await connection.query(
                """
                INSERT INTO console_sign_in_failures (name, address, failures, last_failure_at) VALUES (\(name), \(address), 1, \(at))
                ON CONFLICT (name, address) DO UPDATE
                    SET failures = console_sign_in_failures.failures + 1, last_failure_at = excluded.last_failure_at
                RETURNING failures
                """, logger: self.logger
            ).decode(Int.self) {
                failures = count
            }
            guard let wait = rule.lockout(afterFailures: failures) else { return nil }
            let until = (at + wait).postgresPrecision
            try await connection.query(
                "UPDATE console_sign_in_failures SET locked_until = \(until) WHERE name = \(name) AND address = \(address)",
                logger: self.logger)
            return until
        }
    }

    public func clearConsoleSignInFailures(name: String, address: String) async throws(CatalogError) {
        let (name, address) = (SignInLockout.key(name), SignInLockout.key(address))
        try await perform("clear a console sign-in's failures") {
            _ = try await self.client.query(
                "DELETE FROM console_sign_in_failures WHERE name = \(name) AND address = \(address)", logger: self.logger)
        }
    }
}
