import CallVaultArchive
import CallVaultModel
import CallVaultStore

/// Both tracks of a call decrypted into one stereo WAV (caller left, bot right) for playback or a
/// download, through ``RecordingExporter`` — which writes `recording.decrypted` per track (and
/// `recording.restriction_overridden`) with the operator, the purpose and the reason before any key is
/// unwrapped. Calls longer than ``ConsoleConfiguration/maximumPlaybackDuration`` are refused (413)
/// before anything is decrypted: the WAV is built in memory.
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

    /// Decrypts `recordings` (audited with `purpose` and the access's reason) into a stereo WAV.
    func stereoWAV(
        call: CallRecord,
        recordings: [RecordingRecord],
        access: AuditedAccess,
        purpose: String
    ) async -> Result<[UInt8], ConsoleFailure> {
        let longest = recordings.map(\.durationMs).max() ?? 0
        let limit = console.configuration.maximumPlaybackDuration
        guard longest <= limit.components.seconds * 1000 else {
            return .failure(
                ConsoleFailure(
                    response: .problem(
                        413,
                        "Too long for the console",
                        "This call is longer than \(limit.components.seconds / 60) minutes: export it with `callvault calls export` (audited).",
                        session: session
                    )
                )
            )
        }
        var tracks: [RecordingTrack: ExportedRecording] = [:]
        for recording in recordings {
            do {
                tracks[recording.track] = try await console.exporter.export(
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
                    response: .problem(
                        409,
                        "Cannot decrypt",
                        "The tracks have different sample rates.",
                        session: session
                    )
                )
            )
        }
        let left = tracks[.caller]?.samples ?? []
        let right = tracks[.bot]?.samples ?? []
        var stereo = [Int16](repeating: 0, count: max(left.count, right.count) * 2)
        for i in 0..<left.count { stereo[2 * i] = left[i] }
        for i in 0..<right.count { stereo[2 * i + 1] = right[i] }
        return .success(WAVEncoder.encode(stereo, sampleRate: rate, channels: 2))
    }
}
