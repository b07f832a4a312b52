import CPocketSphinx
public import CallVaultArchive
import Foundation

/// Speech to text in process with CMU pocketsphinx (Debian's libpocketsphinx and its en-us model).
///
/// One decoder per worker, reused for every utterance (creating one loads the model: ~0.5 s).
/// Audio must be 16 kHz: the stock model's features are computed for it (at 8 kHz upsample first).
/// Not thread-safe: one engine per thread.
public final class PocketSphinxEngine: TranscriptionEngine {
    public let name = "pocketsphinx"
    /// Where the model's three parts are.
    public struct Model: Sendable, Equatable {
        public var acousticModel: String
        public var languageModel: String
        public var dictionary: String

        public init(acousticModel: String, languageModel: String, dictionary: String) {
            self.acousticModel = acousticModel
            self.languageModel = languageModel
            self.dictionary = dictionary
        }

        /// Debian's `pocketsphinx-en-us` package.
        public static let debianEnglish = Model(
            acousticModel: "/usr/share/pocketsphinx/model/en-us/en-us",
            languageModel: "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin",
            dictionary: "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict")
    }

    public static let sampleRate = 16_000
    private let decoder: OpaquePointer

    public init(model: Model = .debianEnglish) throws(TranscriptionError) {
        for (what, path) in [("acoustic model", model.acousticModel + "/mdef"), ("language model", model.languageModel),
            ("dictionary", model.dictionary)]
        where !FileManager.default.isReadableFile(atPath: path) {
            throw TranscriptionError(
                .modelMissing, "pocketsphinx \(what) missing at \(path) (install pocketsphinx-en-us: scripts/bootstrap)")
        }
        guard let decoder = cv_ps_create(model.acousticModel, model.languageModel, model.dictionary) else {
            throw TranscriptionError(.modelMissing, "pocketsphinx could not load the model at \(model.acousticModel)")
        }
        self.decoder = decoder
    }

    deinit { ps_free(decoder) }

    /// Transcribes 16 kHz mono PCM, utterance by utterance (split at silences). Only English is
    /// installed, so the language option is ignored.
    public func transcribe(_ samples: [Int16], options: TranscriptionOptions = TranscriptionOptions())
        throws(TranscriptionError) -> [TranscriptSegment]
    {
        var segments: [TranscriptSegment] = []
        for range in UtteranceSplitter.utterances(samples, sampleRate: Self.sampleRate) {
            let words = try decode(Array(samples[range]), offsetMs: range.lowerBound * 1000 / Self.sampleRate)
            guard !words.isEmpty else { continue }
            segments.append(
                TranscriptSegment(
                    startMs: words.first!.startMs, endMs: words.last!.endMs,
                    text: words.map(\.word).joined(separator: " "), words: words))
        }
        return segments
    }

    private func decode(_ utterance: [Int16], offsetMs: Int) throws(TranscriptionError) -> [TranscriptWord] {
        guard ps_start_utt(decoder) == 0 else { throw TranscriptionError(.engineFailed, "pocketsphinx could not start an utterance") }
        let processed = utterance.withUnsafeBufferPointer { ps_process_raw(decoder, $0.baseAddress, $0.count, 0, 1) }
        guard processed >= 0, ps_end_utt(decoder) == 0 else {
            throw TranscriptionError(.engineFailed, "pocketsphinx failed on an utterance of \(utterance.count) samples")
        }
        let logmath = ps_get_logmath(decoder)
        var words: [TranscriptWord] = []
        var iterator = ps_seg_iter(decoder)
        while let segment = iterator {
            var startFrame: Int32 = 0
            var endFrame: Int32 = 0
            ps_seg_frames(segment, &startFrame, &endFrame)
            let raw = String(cString: ps_seg_word(segment))
            let probability = logmath_exp(logmath, ps_seg_prob(segment, nil, nil, nil))
            // Fillers (<s>, </s>, <sil>, [NOISE]) are not words; "word(2)" is a pronunciation variant.
            if !raw.hasPrefix("<") && !raw.hasPrefix("[") {
                let word = raw.split(separator: "(").first.map(String.init) ?? raw
                words.append(
                    TranscriptWord(
                        word: word, startMs: offsetMs + Int(startFrame) * 10, endMs: offsetMs + Int(endFrame + 1) * 10,
                        confidence: min(1, max(0, probability))))
            }
            iterator = ps_seg_next(segment)
        }
        return words
    }
}
