import CallVaultArchive
import CallVaultAudio
import CallVaultModel
import CallVaultStore

extension SubjectExport {
    /// Interleaved stereo PCM16 and its rate.
    struct Stereo {
        var samples: [Int16]
        var rate: Int
    }

    /// Lays the tracks on two channels, caller left and bot right, sample for sample on the call's
    /// timeline (each recording was decoded `onTimeline`, so index 0 is the call's start). The shorter
    /// channel is padded with silence; a missing track is a silent channel. Tracks at a lower rate are
    /// resampled to the highest one. Two recordings of one track share its channel by position.
    static func stereo(_ tracks: [(RecordingTrack, ExportedRecording)]) -> Stereo {
        let rate = tracks.map(\.1.sampleRate).max() ?? 8000
        var channels: [RecordingTrack: [Int16]] = [:]
        for (track, audio) in tracks {
            var samples = audio.samples
            if audio.sampleRate != rate, let from = SampleRate(rawValue: audio.sampleRate),
                let to = SampleRate(rawValue: rate)
            {
                samples = Resampler.resample(samples, from: from, to: to)
            }
            guard var channel = channels[track] else {
                channels[track] = samples
                continue
            }
            if channel.count < samples.count {
                channel.append(contentsOf: repeatElement(0, count: samples.count - channel.count))
            }
            for (index, sample) in samples.enumerated() where sample != 0 { channel[index] = sample }
            channels[track] = channel
        }
        let left = channels[.caller] ?? []
        let right = channels[.bot] ?? []
        var stereo = [Int16](repeating: 0, count: 2 * max(left.count, right.count))
        for index in left.indices { stereo[2 * index] = left[index] }
        for index in right.indices { stereo[2 * index + 1] = right[index] }
        return Stereo(samples: stereo, rate: rate)
    }

    static func wav(_ stereo: Stereo) throws(AudioError) -> [UInt8] {
        try WAVEncoder.encode(interleaved: stereo.samples, sampleRate: stereo.rate, channels: 2)
    }
}
