import CallVaultArchive
import CallVaultModel
import CallVaultStore

extension TranscriptionWorker {
    /// Bot speech shorter than this, left after the bot's own utterances are placed, is not worth an
    /// engine run (a breath, a click, the tail of a word).
    static let leastSpeechForEngineMs = 500

    /// The bot's utterances of the job's call, opened; empty when its platform sent none. Unreadable: the
    /// job fails and is retried, rather than transcribe the bot without the words it was given.
    func botUtterances(of job: JobRecord) async throws(TranscriptionError) -> [BotTextAligner.Utterance] {
        let vault = BotUtteranceVault(catalog: catalog, keyStore: keyStore)
        do {
            return try await vault.texts(callID: job.callId, tenantID: job.tenantId).map {
                BotTextAligner.Utterance(
                    startMs: Int($0.utterance.startMs), endMs: $0.utterance.endMs.map { Int($0) }, text: $0.text)
            }
        } catch {
            throw TranscriptionError(.storeFailed, "job \(job.id): the bot's utterances: \(error.message)")
        }
    }

    /// Once the transcript holding them is sealed, the utterances' key is destroyed and their rows
    /// deleted. A failure is logged, not the job's: their key expires with the transcript's day key.
    func discardBotUtterances(of job: JobRecord) async {
        do {
            try await BotUtteranceVault(catalog: catalog, keyStore: keyStore).discard(
                callID: job.callId, tenantID: job.tenantId)
        } catch {
            logger.warning(
                "the bot's utterances were not discarded after the transcript was sealed",
                metadata: ["call": "\(job.callId)", "error": "\(error.message)"])
        }
    }
}
