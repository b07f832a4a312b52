public import CallVaultArchive

/// Puts the bot's own words (sent by its platform, ``BotUtterance``) where the bot track says them.
///
/// The platform knows what its bot said, exactly; only when is approximate (given by the platform, the
/// moment its request arrived, or a Twilio mark). The bot track's speech, found by energy
/// (``UtteranceSplitter``), gives the times: each utterance takes the stretches of speech that begin
/// from a little before its start up to the next utterance's start (or its own `endMs`), until a pause
/// longer than any inside a sentence, and its words are spread over them by length. Speech that no utterance takes is returned, silenced elsewhere, for
/// speech recognition; an utterance with no speech in its window was not played (the caller barged
/// in, or the call ended) and is left out, counted.
public enum BotTextAligner {
    /// One utterance to place: milliseconds on the call's timeline.
    public struct Utterance: Sendable, Equatable {
        public var startMs: Int
        public var endMs: Int?
        public var text: String

        public init(startMs: Int, endMs: Int?, text: String) {
            self.startMs = startMs
            self.endMs = endMs
            self.text = text
        }
    }

    public struct Placement: Sendable, Equatable {
        /// The bot's utterances that were heard, with word times.
        public var segments: [TranscriptSegment]
        /// Utterances with no bot speech in their window.
        public var unspoken: Int
        /// The bot track with the placed speech silenced: what is left for speech recognition.
        public var rest: [Int16]
        /// Milliseconds of speech no utterance took.
        public var restSpeechMs: Int
    }

    /// The longest pause inside one utterance (text-to-speech pauses at commas and full stops).
    public static let maximumPauseMs = 1_200

    /// How far before its stated start an utterance may begin (a request that arrived after the audio began).
    public static let earlyToleranceMs = 1_500

    /// Places `utterances` on `track` (16 kHz samples on the call's timeline).
    public static func place(_ utterances: [Utterance], on track: [Int16], sampleRate: Int = 16_000) -> Placement {
        let perMs = Double(sampleRate) / 1000
        let speech = UtteranceSplitter.utterances(track, sampleRate: sampleRate, minimumSilenceMs: 300)
            .map { Int(Double($0.lowerBound) / perMs)..<Int(Double($0.upperBound) / perMs) }
        let ordered = utterances.sorted { $0.startMs < $1.startMs }
        var taken = [Bool](repeating: false, count: speech.count)
        var segments: [TranscriptSegment] = []
        var unspoken = 0
        var previousEnd = 0
        for (index, utterance) in ordered.enumerated() {
            let next = index + 1 < ordered.count ? ordered[index + 1].startMs : Int.max
            let windowStart = max(previousEnd, utterance.startMs - earlyToleranceMs)
            let windowEnd = min(next, utterance.endMs ?? Int.max)
            var spans: [Range<Int>] = []
            for (position, range) in speech.enumerated() where !taken[position] {
                guard range.lowerBound >= windowStart, range.lowerBound < windowEnd else { continue }
                // A long silence ends the utterance: what follows is speech the platform did not send.
                if let last = spans.last, range.lowerBound - last.upperBound > maximumPauseMs { break }
                taken[position] = true
                let end = utterance.endMs.map { min(range.upperBound, max($0, range.lowerBound + 1)) } ?? range.upperBound
                spans.append(range.lowerBound..<end)
            }
            guard let first = spans.first, let last = spans.last else {
                unspoken += 1
                continue
            }
            previousEnd = last.upperBound
            segments.append(
                TranscriptSegment(
                    startMs: first.lowerBound, endMs: last.upperBound, text: utterance.text,
                    words: words(of: utterance.text, over: spans)))
        }
        var rest = track
        var restSpeechMs = 0
        for (position, range) in speech.enumerated() {
            if taken[position] {
                let from = min(rest.count, Int(Double(range.lowerBound) * perMs))
                let to = min(rest.count, Int(Double(range.upperBound) * perMs))
                for sample in from..<to { rest[sample] = 0 }
            } else {
                restSpeechMs += range.count
            }
        }
        return Placement(segments: segments, unspoken: unspoken, rest: rest, restSpeechMs: restSpeechMs)
    }

    /// The words of `text` spread over `spans` in order, each given time in proportion to its length
    /// (plus one for the gap after it): text-to-speech speaks at an even pace.
    static func words(of text: String, over spans: [Range<Int>]) -> [TranscriptWord] {
        let tokens = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !tokens.isEmpty else { return [] }
        let total = spans.reduce(0) { $0 + $1.count }
        let weights = tokens.map { Double($0.count + 1) }
        let weightSum = weights.reduce(0, +)
        // A position in spoken time (0..<total) to a time on the timeline.
        func time(at spoken: Double) -> Int {
            var left = spoken
            for span in spans {
                if left <= Double(span.count) { return span.lowerBound + Int(left.rounded()) }
                left -= Double(span.count)
            }
            return spans.last!.upperBound
        }
        var words: [TranscriptWord] = []
        var spoken = 0.0
        for (token, weight) in zip(tokens, weights) {
            let duration = Double(total) * weight / weightSum
            let start = time(at: spoken)
            // The word's own length, without the gap share after it.
            let end = max(start + 1, time(at: spoken + duration * Double(token.count) / weight))
            words.append(TranscriptWord(word: token, startMs: start, endMs: end, confidence: 1))
            spoken += duration
        }
        return words
    }
}
