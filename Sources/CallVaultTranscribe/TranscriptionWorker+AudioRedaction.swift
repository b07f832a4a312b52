import CallVaultArchive
import CallVaultModel
import CallVaultRetention

extension TranscriptionWorker {
    /// Silences what the transcript's redaction found in the call's recorded voice, both tracks (see
    /// ``RecordingRedactor``), right after the redacted transcript is sealed: the placeholders in the text
    /// and silence in the audio come from the same spans. A store or disk failure fails the job (retried:
    /// the retry finds the transcript done and redacts the audio from its manifest); a copy that fails its
    /// check restricts the original and is logged, the job still done.
    func redactAudio(callID: String, redactions: TranscriptRedactions) async throws(TranscriptionError) {
        guard !redactions.spans.isEmpty else { return }
        let redactor = RecordingRedactor(
            catalog: catalog, keyStore: keyStore, files: SealedFiles(dataDirectory: dataDirectory, objects: configuration.objects),
            logger: logger, actor: actor)
        do throws(RetentionError) {
            let report = try await redactor.redact(
                callID: callID, requests: redactions.spans.map(AudioRedactionPlan.Request.init),
                detectorVersion: redactions.detectorVersion)
            for left in report.skipped {
                logger.warning(
                    "recorded voice not redacted", metadata: ["recording": "\(left.recording)", "reason": "\(left.reason)"])
            }
        } catch {
            throw TranscriptionError(.storeFailed, "call \(callID): the audio could not be redacted: \(error.message)")
        }
    }

    /// On a job whose transcript is already sealed (a retry after the audio redaction failed, or a worker
    /// that died between the two): redacts the audio from the sealed transcript's manifest when a track
    /// still holds its original voice and the tenant redacts.
    func redactAudioIfPending(_ job: JobRecord, transcriptID: String, recordings: [RecordingRecord], policy: TenantPolicy)
        async throws(TranscriptionError)
    {
        guard recordings.contains(where: { $0.redaction == nil && !$0.hold }) else { return }
        if policy.redact.isEmpty, try await sensitiveWindows(of: job, recordings: recordings).isEmpty { return }
        let store = TranscriptStore(
            catalog: catalog, keyStore: keyStore, dataDirectory: dataDirectory, objects: configuration.objects)
        let opened = try await store.open(id: transcriptID, actor: actor, purpose: "redaction")
        guard let redactions = opened.transcript.redactions else { return }
        try await redactAudio(callID: job.callId, redactions: redactions)
    }

    /// The windows the bot declared sensitive on the job's call, as timeline ranges; one never closed
    /// (the call ended inside it) reaches to the end of the longest recording.
    func sensitiveWindows(of job: JobRecord, recordings: [RecordingRecord]) async throws(TranscriptionError) -> [Range<Int>] {
        let windows: [SensitiveWindow]
        do { windows = try await catalog.sensitiveWindows(callID: job.callId) } catch {
            throw TranscriptionError(.storeFailed, "job \(job.id): cannot read its sensitive windows: \(error.message)")
        }
        let end = Int(recordings.map(\.durationMs).max() ?? 0)
        return windows.map { window in
            let start = Int(window.startMs)
            return start..<max(start, window.endMs.map(Int.init) ?? max(end, start))
        }
    }
}
