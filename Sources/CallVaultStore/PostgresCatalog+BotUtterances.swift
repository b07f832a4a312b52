public import CallVaultModel
internal import PostgresNIO

extension PostgresCatalog {
    /// Stores one of the bot's utterances (see ``Catalog``'s).
    public func addBotUtterance(_ utterance: BotUtterance) async throws(CatalogError) {
        try BotUtteranceRules.check(utterance)
        try await transaction("store an utterance of call \(utterance.callId)") { connection in
            var found = false
            for try await _ in try await connection.query(
                "SELECT 1 FROM calls WHERE id = \(utterance.callId) FOR UPDATE", logger: self.logger
            ).decode(Int.self) {
                found = true
            }
            guard found else { throw CatalogError(.notFound, "no call with id \(utterance.callId)") }
            for try await _ in try await connection.query(
                """
                SELECT 1 FROM bot_utterances WHERE call_id = \(utterance.callId) AND utterance_id = \(utterance.utteranceId)
                """, logger: self.logger
            ).decode(Int.self) {
                throw CatalogError(
                    .duplicate, "call \(utterance.callId) already has an utterance with id \(utterance.utteranceId)")
            }
            let sealed = ByteBuffer(bytes: utterance.sealedText)
            _ = try await connection.query(
                """
                INSERT INTO bot_utterances (call_id, utterance_id, start_ms, end_ms, placement, sealed_text)
                VALUES (\(utterance.callId), \(utterance.utteranceId), \(utterance.startMs), \(utterance.endMs),
                        \(utterance.placement.rawValue), \(sealed))
                """, logger: self.logger)
        }
    }

    /// Moves an utterance's start to a Twilio mark (see ``Catalog``'s).
    @discardableResult
    public func placeBotUtterance(callID: String, utteranceID: String, atMs: Int64) async throws(CatalogError) -> Bool {
        guard atMs >= 0 else { throw CatalogError(.invalidArgument, "an utterance cannot start before 0 ms") }
        return try await perform("place an utterance of call \(callID)") {
            var moved = false
            for try await _ in try await self.client.query(
                """
                UPDATE bot_utterances SET start_ms = \(atMs), placement = 'mark'
                WHERE call_id = \(callID) AND utterance_id = \(utteranceID) AND placement <> 'given'
                RETURNING id
                """, logger: self.logger
            ).decode(Int64.self) {
                moved = true
            }
            return moved
        }
    }

    public func botUtterances(callID: String) async throws(CatalogError) -> [BotUtterance] {
        try await perform("read the utterances of call \(callID)") {
            var rows: [(String, String, Int64, Int64?, String, ByteBuffer)] = []
            for try await row in try await self.client.query(
                """
                SELECT call_id, utterance_id, start_ms, end_ms, placement, sealed_text FROM bot_utterances
                WHERE call_id = \(callID) ORDER BY start_ms, id
                """, logger: self.logger
            ).decode((String, String, Int64, Int64?, String, ByteBuffer).self) {
                rows.append(row)
            }
            return try rows.map { row throws(CatalogError) in
                try BotUtteranceRules.utterance(
                    callID: row.0, utteranceID: row.1, startMs: row.2, endMs: row.3, placement: row.4,
                    sealedText: Array(row.5.readableBytesView))
            }
        }
    }

    @discardableResult
    public func deleteBotUtterances(callID: String) async throws(CatalogError) -> Int {
        try await perform("delete the utterances of call \(callID)") {
            var count = 0
            for try await _ in try await self.client.query(
                "DELETE FROM bot_utterances WHERE call_id = \(callID) RETURNING id", logger: self.logger
            ).decode(Int64.self) {
                count += 1
            }
            return count
        }
    }
}
