import CallVaultArchive
import CallVaultAudio
import CallVaultModel

/// Rewrites one recording's voice segment payloads (as the ``Segmenter`` wrote them: header, then codec
/// bytes) with the plan's sample ranges silenced; everything else is kept byte for byte.
///
/// PCM16 and G.711 are silenced in place, sample by sample (G.711's code for zero: μ-law `0xFF`, A-law
/// `0xD5`, which decodes to ±8: A-law has no zero). Opus frames cannot be cut, so every frame is decoded
/// and re-encoded on one running encoder; frames that overlap a span take the new packet (their samples in
/// the span zeroed), all others keep the original packet. Segments keep their index, timeline place and
/// frame count, so the copy's timeline is the original's.
final class SegmentSilencer {
    let codec: StorageCodec
    let sampleRate: Int
    private let ranges: [Range<Int64>]
    private var decoder: OpusDecoder?
    private var encoder: OpusEncoder?
    private var frame: [Int16] = []
    private var packet: [UInt8] = []
    /// Samples set to silence so far.
    private(set) var silencedSamples: Int64 = 0

    init(codec: StorageCodec, sampleRate: Int, plan: AudioRedactionPlan) throws(RecorderError) {
        self.codec = codec
        self.sampleRate = sampleRate
        ranges = plan.sampleRanges(sampleRate: sampleRate)
        if codec == .opus {
            guard let rate = SampleRate(rawValue: sampleRate) else {
                throw RecorderError(.unsupportedCodec, "an Opus recording at \(sampleRate) Hz cannot be redacted")
            }
            do throws(AudioError) {
                decoder = try OpusDecoder(sampleRate: rate)
                encoder = try OpusEncoder(sampleRate: rate)
            } catch {
                throw RecorderError(.unsupportedCodec, "no Opus codec for redaction: \(error.message)")
            }
            frame = [Int16](repeating: 0, count: rate.samplesPerFrame)
            packet = [UInt8](repeating: 0, count: OpusEncoder.maximumPacketBytes)
        }
    }

    /// The payload with its samples in the plan's ranges silenced, and its frame count. An empty payload
    /// (the `last` marker) stays empty.
    func silence(_ payload: UnsafeRawBufferPointer) throws(RecorderError) -> (bytes: [UInt8], frames: Int) {
        guard !payload.isEmpty else { return ([], 0) }
        let parsed = try SegmentPayload(parsing: payload)
        guard parsed.codec == codec else {
            throw RecorderError(
                .invalidArgument, "a \(parsed.codec.rawValue) segment in a \(codec.rawValue) recording")
        }
        let firstSample = parsed.firstFrameMs * Int64(sampleRate) / 1000
        if codec == .opus {
            return (try silenceOpus(parsed, firstSample: firstSample, header: payload), parsed.frameCount)
        }
        var bytes = [UInt8](payload)
        let width = codec == .pcm16 ? 2 : 1
        let count = Int64(parsed.audio.count / width)
        let header = SegmentPayload.headerByteCount
        for range in ranges {
            let start = max(range.lowerBound, firstSample)
            let end = min(range.upperBound, firstSample + count)
            guard start < end else { continue }
            for sample in (start - firstSample)..<(end - firstSample) {
                let at = header + Int(sample) * width
                switch codec {
                case .g711u: bytes[at] = 0xFF
                case .g711a: bytes[at] = 0xD5
                default:
                    bytes[at] = 0
                    bytes[at + 1] = 0
                }
            }
            silencedSamples += end - start
        }
        return (bytes, parsed.frameCount)
    }

    private func silenceOpus(_ parsed: SegmentPayload, firstSample: Int64, header: UnsafeRawBufferPointer)
        throws(RecorderError) -> [UInt8]
    {
        guard let decoder, let encoder else { throw RecorderError(.unsupportedCodec, "no Opus codec") }
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: header[0..<SegmentPayload.headerByteCount]))
        let audio = parsed.audio
        let perFrame = Int64(frame.count)
        for (index, range) in try SegmentPayload.opusPackets(in: audio).enumerated() {
            let original = UnsafeRawBufferPointer(rebasing: audio[range])
            let frameStart = firstSample + Int64(index) * perFrame
            var overlaps = false
            do throws(AudioError) {
                try frame.withUnsafeMutableBufferPointer { samples throws(AudioError) in
                    try decoder.decode(original, into: samples)
                    for range in ranges {
                        let start = max(range.lowerBound, frameStart)
                        let end = min(range.upperBound, frameStart + perFrame)
                        guard start < end else { continue }
                        overlaps = true
                        for sample in (start - frameStart)..<(end - frameStart) { samples[Int(sample)] = 0 }
                        silencedSamples += end - start
                    }
                }
                // Every frame goes through the encoder, so its state follows the audio the copy holds.
                let written = try encodeFrame(encoder)
                let length = overlaps ? written : original.count
                out.append(UInt8(length >> 8))
                out.append(UInt8(length & 0xFF))
                if overlaps { out.append(contentsOf: packet[0..<written]) } else { out.append(contentsOf: original) }
            } catch {
                throw RecorderError(.sealedFileFailed, "an Opus frame could not be redacted: \(error.message)")
            }
        }
        return out
    }

    /// Encodes ``frame`` into ``packet``; returns the packet's length.
    private func encodeFrame(_ encoder: OpusEncoder) throws(AudioError) -> Int {
        let samples = frame
        return try packet.withUnsafeMutableBufferPointer { room throws(AudioError) -> Int in
            try samples.withUnsafeBufferPointer { input throws(AudioError) -> Int in
                try encoder.encode(input, into: UnsafeMutableRawBufferPointer(room))
            }
        }
    }
}
