/// The sample rates a call's audio can have on the hot path.
///
/// Telephony is 8 kHz (G.711, AudioSocket slin), wideband 16 kHz (L16 streams, transcription),
/// and Opus runs natively at 48 kHz. Other rates are refused at the edge with an ``AudioError``.
public enum SampleRate: Int, Sendable, CaseIterable, CustomStringConvertible {
    case hz8000 = 8000
    case hz16000 = 16000
    case hz48000 = 48000

    /// Samples of one channel in one 20 ms frame at this rate.
    @inlinable public var samplesPerFrame: Int { rawValue / 50 }

    /// Returns the rate for `hertz`, or throws `unsupportedSampleRate` naming it.
    public init(hertz: Int) throws(AudioError) {
        guard let rate = SampleRate(rawValue: hertz) else {
            throw AudioError(.unsupportedSampleRate, "sample rate \(hertz) Hz is not supported (use 8000, 16000 or 48000)")
        }
        self = rate
    }

    public var description: String { "\(rawValue) Hz" }
}
