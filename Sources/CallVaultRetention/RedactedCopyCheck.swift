import CallVaultArchive
import CallVaultAudio
import CallVaultCrypto
import CallVaultModel
import CallVaultStore

/// Checks a redacted copy against its original, segment by segment, before the original is destroyed:
/// the same segments at the same places on the timeline; inside every span, silence as decoded; outside,
/// the original's codec bytes unchanged (PCM16, G.711) or the original's packets (Opus frames that touch
/// no span).
///
/// "Silence as decoded": exact zero for PCM16 and μ-law, ±8 for A-law (its quietest code). Opus cannot
/// stop on a sample: its decoder rings down for a few milliseconds after speech, so the first
/// ``opusSettleMs`` of a span are not checked and the rest must stay within ±``opusTolerance``
/// (−66 dBFS), far below anything intelligible; the padding puts all of it outside the words.
struct RedactedCopyCheck {
    static let opusSettleMs: Int64 = 60
    static let opusTolerance: Int16 = 16

    let codec: StorageCodec
    let sampleRate: Int
    let ranges: [Range<Int64>]

    init(codec: StorageCodec, sampleRate: Int, plan: AudioRedactionPlan) {
        self.codec = codec
        self.sampleRate = sampleRate
        ranges = plan.sampleRanges(sampleRate: sampleRate)
    }

    /// Nil when the copy checks out, else why not (positions and counts only, never audio).
    func check(
        original: SealedRecordingReader, originalRecord: RecordingRecord, copy: SealedRecordingReader,
        copyRecord: RecordingRecord
    ) throws(RecorderError) -> String? {
        var decoder: OpusDecoder?
        var frame: [Int16] = []
        if codec == .opus, let rate = SampleRate(rawValue: sampleRate) {
            do { decoder = try OpusDecoder(sampleRate: rate) } catch {
                throw RecorderError(.unsupportedCodec, "no Opus decoder: \(error.message)")
            }
            frame = [Int16](repeating: 0, count: rate.samplesPerFrame)
        }
        let settle = Self.opusSettleMs * Int64(sampleRate) / 1000
        while true {
            let left = try RecordingRedactor.next(original, of: originalRecord)
            guard let left else {
                return try RecordingRedactor.next(copy, of: copyRecord) == nil
                    ? nil : "the copy has more segments than the original"
            }
            let before = [UInt8](left.plaintext)
            let (index, isLast) = (left.index, left.isLast)
            guard let right = try RecordingRedactor.next(copy, of: copyRecord) else {
                return "the copy ends before segment \(index)"
            }
            guard right.index == index, right.isLast == isLast else {
                return "segment \(index) of the copy is numbered or ended differently"
            }
            if before.isEmpty || right.plaintext.isEmpty {
                if before.isEmpty != right.plaintext.isEmpty { return "segment \(index) differs in emptiness" }
                continue
            }
            let after = right.plaintext
            let problem: String? = try before.withUnsafeBufferPointer { buffer throws(RecorderError) -> String? in
                let a = try SegmentPayload(parsing: UnsafeRawBufferPointer(buffer))
                let b = try SegmentPayload(parsing: after)
                guard a.firstFrameMs == b.firstFrameMs, a.frameCount == b.frameCount,
                    a.samplesPerFrame == b.samplesPerFrame, a.filledFrameCount == b.filledFrameCount
                else { return "segment \(index) moved on the timeline or changed its frame count" }
                let firstSample = a.firstFrameMs * Int64(sampleRate) / 1000
                if let decoder {
                    return try checkOpus(
                        a.audio, b.audio, firstSample: firstSample, decoder: decoder, frame: &frame, settle: settle,
                        segment: index)
                }
                return checkSamples(a.audio, b.audio, firstSample: firstSample, segment: index)
            }
            if let problem { return problem }
        }
    }

    private func inSpan(_ sample: Int64) -> Range<Int64>? { ranges.first { $0.contains(sample) } }

    private func checkSamples(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, firstSample: Int64, segment: UInt32)
        -> String?
    {
        guard a.count == b.count else { return "segment \(segment) changed size" }
        let width = codec == .pcm16 ? 2 : 1
        for index in 0..<(a.count / width) {
            let at = index * width
            if inSpan(firstSample + Int64(index)) != nil {
                let silent =
                    switch codec {
                    case .g711u: b[at] == 0xFF || b[at] == 0x7F
                    case .g711a: b[at] == 0xD5 || b[at] == 0x55
                    default: b[at] == 0 && b[at + 1] == 0
                    }
                if !silent { return "segment \(segment) is not silent inside a redacted span" }
            } else if a[at] != b[at] || (width == 2 && a[at + 1] != b[at + 1]) {
                return "segment \(segment) changed outside the redacted spans"
            }
        }
        return nil
    }

    private func checkOpus(
        _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, firstSample: Int64, decoder: OpusDecoder,
        frame: inout [Int16], settle: Int64, segment: UInt32
    ) throws(RecorderError) -> String? {
        let left = try? SegmentPayload.opusPackets(in: a)
        let right = try? SegmentPayload.opusPackets(in: b)
        guard let left, let right, left.count == right.count else {
            return "segment \(segment) holds a different number of Opus frames"
        }
        let perFrame = Int64(frame.count)
        for (index, (original, copy)) in zip(left, right).enumerated() {
            let frameStart = firstSample + Int64(index) * perFrame
            do throws(AudioError) {
                try frame.withUnsafeMutableBufferPointer { samples throws(AudioError) in
                    try decoder.decode(UnsafeRawBufferPointer(rebasing: b[copy]), into: samples)
                }
            } catch {
                return "an Opus frame of segment \(segment) does not decode"
            }
            var touched = false
            for offset in 0..<perFrame {
                guard let span = inSpan(frameStart + offset) else { continue }
                touched = true
                if frameStart + offset - span.lowerBound >= settle, abs(Int(frame[Int(offset)])) > Int(Self.opusTolerance) {
                    return "segment \(segment) is not silent inside a redacted span"
                }
            }
            if !touched && !a[original].elementsEqual(b[copy]) {
                return "segment \(segment) changed an Opus frame outside the redacted spans"
            }
        }
        return nil
    }
}
