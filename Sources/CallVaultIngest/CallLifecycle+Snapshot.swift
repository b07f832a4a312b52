import CallVaultModel
import CallVaultRecorder

extension CallLifecycle {
    /// The stream as ``LiveCallSnapshot`` shows it, read on its event loop (so between two frames), or
    /// nil before the call is set up.
    var snapshot: LiveCallSnapshot? {
        guard let recorder, let call = callRecord else { return nil }
        let gate = recorder.gate
        let phase: LiveCallSnapshot.GatePhase =
            switch gate.phase {
            case .waiting: .waiting
            case .recording: .recording
            case .stopped: .stopped
            }
        let tracks = RecordingTrack.allCases.compactMap { track in
            framesIn[track] == 0 && recorder.framesWritten(on: track) == 0
                ? nil
                : LiveCallSnapshot.Track(
                    track: track, framesIn: framesIn[track], framesRecorded: recorder.framesWritten(on: track))
        }
        let stream = LiveCallSnapshot.Stream(
            mediaProtocol: mediaProtocol,
            connectedAt: connectedAt,
            consentMode: gate.policy.mode,
            phase: phase,
            paused: gate.isPaused,
            disclosed: gate.disclosed,
            admits: recorder.admits,
            timelineMs: timelineMs,
            tracks: tracks
        )
        return LiveCallSnapshot(
            callID: call.id,
            tenantID: call.tenantId,
            externalID: call.externalId,
            startedAt: call.startedAt,
            streams: [stream]
        )
    }
}
