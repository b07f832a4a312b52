/// Splits 16 kHz speech into utterances at silences, for whole-utterance decoding: pocketsphinx does
/// far better on complete utterances (batch mean normalisation) than on a stream of 20 ms chunks,
/// and worse on very long ones. Silence is judged against the recording's own quiet level.
public enum UtteranceSplitter {
    /// Ranges of sample indices holding speech, each at most `maximumMs` long.
    public static func utterances(
        _ samples: [Int16], sampleRate: Int = 16_000, minimumSilenceMs: Int = 800, maximumMs: Int = 15_000
    ) -> [Range<Int>] {
        let frame = sampleRate / 50
        let count = samples.count / frame
        guard count > 0 else { return [] }
        var energy = [Double](repeating: 0, count: count)
        for index in 0..<count {
            var sum = 0.0
            for sample in samples[(index * frame)..<((index + 1) * frame)] { sum += Double(sample) * Double(sample) }
            energy[index] = (sum / Double(frame)).squareRoot()
        }
        // Speech: 6 dB above the 10th-percentile level, and above an absolute floor (about −60 dBFS).
        let quiet = energy.sorted()[count / 10]
        let threshold = max(quiet * 2, 32)
        let silenceFrames = max(1, minimumSilenceMs / 20)
        let maximumFrames = max(1, maximumMs / 20)
        var result: [Range<Int>] = []
        var start: Int?
        var lastSpeech = 0
        for index in 0..<count {
            let speech = energy[index] > threshold
            if speech {
                if start == nil { start = max(0, index - 5) }
                lastSpeech = index
            }
            if let begin = start, (!speech && index - lastSpeech >= silenceFrames) || index - begin >= maximumFrames {
                let end = min(count, lastSpeech + 6)
                result.append((begin * frame)..<(end * frame))
                start = nil
            }
        }
        if let begin = start { result.append((begin * frame)..<(min(count, lastSpeech + 6) * frame)) }
        return result.filter { $0.count >= frame * 5 }
    }
}
