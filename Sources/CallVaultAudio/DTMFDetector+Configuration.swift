extension DTMFDetector {
    /// The acceptance rules, after ITU-T Q.24 (and the figures most administrations use).
    ///
    /// Defaults suit telephone calls; change them only with a reason a test can show.
    public struct Configuration: Sendable, Equatable {
        /// A key must sound at least this long to count (Q.24: 40 ms). Measured over every alignment
        /// to the analysis grid: tones of 33.5 ms or less are always rejected, tones of 38 ms or
        /// more always accepted (`DTMFDetectorTests` checks 30 and 40 ms at every alignment).
        public var minimumToneMilliseconds: Double = 40
        /// A gap up to this long inside one key press is bridged (a dropout, not a new press);
        /// measured: dropouts up to 24 ms are bridged, from 26 ms they end the press, so Q.24's
        /// 40 ms minimum pause always separates two presses of the same key.
        public var maximumInterruptionMilliseconds: Double = 23
        /// Each of the two tones must be at least this loud, in dBm0 (0 dBm0 is 3.17 dB below a
        /// full-scale sine, as in G.711).
        public var minimumToneLevelDBm0: Double = -30
        /// Normal twist: how much weaker the column (high) tone may be than the row (low) tone.
        public var maximumNormalTwistDB: Double = 8
        /// Reverse twist: how much stronger the column tone may be than the row tone.
        public var maximumReverseTwistDB: Double = 4
        /// The strongest row (and column) must beat every other row (column) by this much, which
        /// rejects off-frequency tones and broadband sound.
        public var relativePeakDB: Double = 8
        /// The two tones must carry at least this share of the window's energy: a key press is two
        /// pure tones, speech and music spread their energy.
        public var minimumToneEnergyFraction: Double = 0.75
        /// The column tone's second harmonic must be this far below it (speech is rich in
        /// harmonics, a DTMF generator is not).
        public var columnSecondHarmonicDB: Double = 15
        /// The row tone's second harmonic must be this far below it. Looser than for the column,
        /// because 2 × 697 and 2 × 770 Hz lie only 58–63 Hz from column tones that leak into them.
        public var rowSecondHarmonicDB: Double = 3

        public init() {}
    }
}
