import CallVaultModel
import CallVaultStore
import Logging

/// The bot's utterances on a live call (issue 22): the control API asks where the stream is and whether it
/// records (an utterance is kept only while it does, the consent rules of the voice), and a Twilio `mark`
/// named after an utterance id moves that utterance's start to where the bot placed the mark in its audio.
extension CallLifecycle {
    var recordingPosition: Int64? {
        guard callID != nil, !finished, let recorder, recorder.admits else { return nil }
        return timelineMs
    }

    /// A mark that is not a sensitive window may name an utterance: placed at the stream's position now,
    /// through the call's catalog queue (in order with the rest of its evidence); a name that is no
    /// utterance of the call changes nothing.
    func placeUtterance(named name: String) {
        guard let callID, !finished, !name.isEmpty, name.utf8.count <= BotUtterance.maximumIDLength else { return }
        let atMs = timelineMs
        let store = context.catalog
        let logger = context.logger
        queue.enqueue {
            do throws(CatalogError) {
                try await store.placeBotUtterance(callID: callID, utteranceID: name, atMs: atMs)
            } catch {
                logger.warning(
                    "a mark could not place its utterance", metadata: ["call": "\(callID)", "error": "\(error.message)"])
            }
        }
    }
}
