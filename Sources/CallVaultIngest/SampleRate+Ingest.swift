public import CallVaultAudio

extension SampleRate {
    /// The frame-path rate for a rate a peer announced, or `unsupportedSampleRate` as an ingest error.
    ///
    /// AudioSocket can announce 12–192 kHz; the recorder carries 8, 16 and 48 kHz, so a stream at
    /// another rate is refused at the edge with a reason the peer can read.
    public init(ingestHertz hertz: Int) throws(IngestError) {
        guard let rate = SampleRate(rawValue: hertz) else {
            throw IngestError(
                .unsupportedSampleRate,
                "audio at \(hertz) Hz is not supported (use 8000, 16000 or 48000)"
            )
        }
        self = rate
    }
}
