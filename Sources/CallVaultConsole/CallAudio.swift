import CallVaultArchive
import CallVaultModel
import CallVaultStore

/// Both tracks of a call as one stereo WAV (caller left, bot right) for playback or a download, opened
/// through ``RecordingExporter`` — which writes `recording.decrypted` per track (and
/// `recording.restriction_overridden`) with the operator, the purpose and the reason before any key is
/// unwrapped — and streamed segment by segment (``StereoCallAudio``), so a call's length costs no
/// memory. The only limit is the WAV format's 4 GiB (37 hours at 8 kHz).
struct CallAudio {
    let console: Console
    let session: ConsoleSession

    /// The call's readable (not shredded) recordings, or the response saying why there are none.
    func readableRecordings(_ call: CallRecord) async -> Result<[RecordingRecord], ConsoleFailure> {
        let recordings: [RecordingRecord]
        do {
            recordings = try await console.catalog.recordings(inCalls: [call.id]).filter { $0.state != .shredded }
        } catch {
            return .failure(
                ConsoleFailure(response: .problem(503, "Catalog unavailable", error.message, session: session))
            )
        }
        guard !recordings.isEmpty else {
            return .failure(
                ConsoleFailure(
                    response: .problem(409, "No recording", "This call has no readable recording.", session: session)
                )
            )
        }
        return .success(recordings)
    }

    /// Opens `recordings` (audited with `purpose` and the access's reason, one entry per track) as one
    /// stereo WAV to be streamed: each track is verified and indexed, none decrypted into memory.
    func stereo(
        call: CallRecord,
        recordings: [RecordingRecord],
        access: AuditedAccess,
        purpose: String
    ) async -> Result<StereoCallAudio, ConsoleFailure> {
        // The catalog's durations count recorded audio only (the timeline may be longer): a first check
        // before anything is audited or decrypted; the exact one follows the indexing.
        let longest = recordings.map { Int($0.durationMs) * $0.sampleRate / 1000 }.max() ?? 0
        if longest * 4 > WAVEncoder.maximumDataBytes { return .failure(tooLong(rate: recordings[0].sampleRate)) }
        var tracks: [RecordingTrack: IndexedRecording] = [:]
        for recording in recordings {
            do {
                tracks[recording.track] = try await console.exporter.openIndexed(
                    recordingID: recording.id,
                    tenantID: call.tenantId,
                    actor: Console.actor(session),
                    purpose: purpose,
                    restrictionOverride: access.restrictionOverride,
                    auditDetails: ["reason": access.reason, "callId": call.id],
                    onTimeline: true
                )
            } catch {
                console.logger.warning(
                    "console decryption failed",
                    metadata: [
                        "call": "\(call.id)", "code": "\(error.code)", "operator": "\(session.account.name)",
                        "purpose": "\(purpose)",
                    ]
                )
                return .failure(
                    ConsoleFailure(response: .problem(409, "Cannot decrypt", error.message, session: session))
                )
            }
        }
        let rate = tracks.values.map(\.sampleRate).max() ?? 8000
        guard tracks.values.allSatisfy({ $0.sampleRate == rate }) else {
            return .failure(
                ConsoleFailure(
                    response: .problem(409, "Cannot decrypt", "The tracks have different sample rates.", session: session)
                )
            )
        }
        let audio = StereoCallAudio(left: tracks[.caller], right: tracks[.bot], sampleRate: rate)
        guard audio.frameCount * 4 <= WAVEncoder.maximumDataBytes else { return .failure(tooLong(rate: rate)) }
        return .success(audio)
    }

    /// 413: the call does not fit a WAV's 32-bit sizes.
    private func tooLong(rate: Int) -> ConsoleFailure {
        let hours = WAVEncoder.maximumDataBytes / (max(rate, 1) * 4 * 3600)
        return ConsoleFailure(
            response: .problem(
                413,
                "Too long for a WAV",
                "A stereo WAV at \(rate) Hz holds at most \(hours) hours: export this call with `callvault calls export` (audited).",
                session: session
            )
        )
    }
}
