public import CallVaultModel
import Foundation
internal import GRDB

extension Catalog {
    /// Stores one of the bot's utterances (sealed); a second with the same id on the call is `duplicate`.
    public func addBotUtterance(_ utterance: BotUtterance) throws(CatalogError) {
        try BotUtteranceRules.check(utterance)
        try write { db in
            guard try CallRow.fetchOne(db, key: utterance.callId) != nil else {
                throw CatalogError(.notFound, "no call with id \(utterance.callId)")
            }
            if try Row.fetchOne(
                db, sql: "SELECT 1 FROM bot_utterances WHERE call_id = ? AND utterance_id = ?",
                arguments: [utterance.callId, utterance.utteranceId]) != nil
            {
                throw CatalogError(
                    .duplicate, "call \(utterance.callId) already has an utterance with id \(utterance.utteranceId)")
            }
            try db.execute(
                sql: """
                    INSERT INTO bot_utterances (call_id, utterance_id, start_ms, end_ms, placement, sealed_text)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    utterance.callId, utterance.utteranceId, utterance.startMs, utterance.endMs,
                    utterance.placement.rawValue, Data(utterance.sealedText),
                ])
        }
    }

    /// Moves an utterance's start to `atMs` (a Twilio mark named after it); false when the call has no
    /// utterance of that id, or its start was given by the platform (a given time is kept).
    @discardableResult
    public func placeBotUtterance(callID: String, utteranceID: String, atMs: Int64) throws(CatalogError) -> Bool {
        guard atMs >= 0 else { throw CatalogError(.invalidArgument, "an utterance cannot start before 0 ms") }
        return try write { db in
            try db.execute(
                sql: """
                    UPDATE bot_utterances SET start_ms = ?, placement = 'mark'
                    WHERE call_id = ? AND utterance_id = ? AND placement <> 'given'
                    """,
                arguments: [atMs, callID, utteranceID])
            return db.changesCount > 0
        }
    }

    /// A call's utterances by start.
    public func botUtterances(callID: String) throws(CatalogError) -> [BotUtterance] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT call_id, utterance_id, start_ms, end_ms, placement, sealed_text FROM bot_utterances
                    WHERE call_id = ? ORDER BY start_ms, id
                    """,
                arguments: [callID]
            ).map { row throws(CatalogError) in
                let sealed: Data = row["sealed_text"]
                return try BotUtteranceRules.utterance(
                    callID: row["call_id"], utteranceID: row["utterance_id"], startMs: row["start_ms"],
                    endMs: row["end_ms"], placement: row["placement"], sealedText: Array(sealed))
            }
        }
    }

    /// Deletes a call's utterances (once its transcript holds them); returns how many.
    @discardableResult
    public func deleteBotUtterances(callID: String) throws(CatalogError) -> Int {
        try write { db in
            try db.execute(sql: "DELETE FROM bot_utterances WHERE call_id = ?", arguments: [callID])
            return db.changesCount
        }
    }
}

/// What both catalogs check and decode the same way.
enum BotUtteranceRules {
    static func check(_ utterance: BotUtterance) throws(CatalogError) {
        guard (1...BotUtterance.maximumIDLength).contains(utterance.utteranceId.utf8.count) else {
            throw CatalogError(
                .invalidArgument, "an utterance id must be 1 to \(BotUtterance.maximumIDLength) bytes")
        }
        guard utterance.startMs >= 0 else {
            throw CatalogError(.invalidArgument, "an utterance cannot start before 0 ms")
        }
        if let end = utterance.endMs, end < utterance.startMs {
            throw CatalogError(.invalidArgument, "an utterance cannot end (\(end) ms) before it starts (\(utterance.startMs) ms)")
        }
        guard !utterance.sealedText.isEmpty,
            utterance.sealedText.count <= BotUtterance.maximumTextBytes + 64
        else {
            throw CatalogError(.invalidArgument, "an utterance's sealed text is empty or too long")
        }
    }

    static func utterance(
        callID: String, utteranceID: String, startMs: Int64, endMs: Int64?, placement: String, sealedText: [UInt8]
    ) throws(CatalogError) -> BotUtterance {
        guard let placement = BotUtterance.Placement(rawValue: placement) else {
            throw CatalogError(.databaseFailure, "a bot utterance has a placement this binary does not know")
        }
        return BotUtterance(
            callId: callID, utteranceId: utteranceID, startMs: startMs, endMs: endMs, placement: placement,
            sealedText: sealedText)
    }
}
