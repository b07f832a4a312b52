public import CallVaultArchive
public import CallVaultAudio
public import CallVaultModel

/// Gathers one track's admitted frames into segment payloads of a target duration (default 1 s),
/// encoded in the storage codec, in a buffer allocated once.
///
/// Timestamps decide placement, not arrival: a frame whose timestamp skips at most `maxFillFrames`
/// frames has the skipped ones filled with silence (counted, so export and metrics can say so);
/// a larger jump — a pause, a stretch before consent — ends the segment, and the next one starts at
/// the new timestamp. A frame at or before the previous one is dropped and counted as late.
public final class Segmenter {
    public let codec: StorageCodec
    public let sampleRate: SampleRate
    public let framesPerSegment: Int
    public let maxFillFrames: Int
    /// Frames filled with silence so far, over the whole track.
    public private(set) var filledFrames = 0
    /// Frames dropped because they came at or before an already written time.
    public private(set) var lateFrames = 0
    /// The size of the last payload handed out (for metrics).
    public private(set) var lastPayloadByteCount = 0

    private let samplesPerFrame: Int
    /// The most bytes one frame takes in the payload (an Opus packet is capped to fit, with its length).
    private let bytesPerFrame: Int
    private let opus: OpusEncoder?
    /// Where the next frame's bytes go, after the header.
    private var cursor = SegmentPayload.headerByteCount
    private let buffer: UnsafeMutableRawBufferPointer
    private let silence: UnsafeMutableBufferPointer<Int16>
    private var frameCount = 0
    private var segmentFilled = 0
    private var nextFrameMs: Int64?

    /// The largest payload this segmenter produces (what the writer's `maxSegmentByteCount` must allow).
    public var maxPayloadByteCount: Int { buffer.count }

    /// - Parameters:
    ///   - codec: `pcm16`, `g711u`, `g711a` or `opus` (resolve `native` first).
    ///   - framesPerSegment: frames per sealed segment (50 = 1 s), which bounds what a crash loses.
    ///   - maxFillFrames: the longest gap filled with silence (25 = 500 ms); longer gaps start a new segment.
    ///   - opusComplexity: 0...10 for `opus` storage: lower buys live-call capacity (about 390 calls per
    ///     core at 8 kHz and 5 here) at some quality.
    public init(
        codec: StorageCodec, sampleRate: SampleRate, framesPerSegment: Int = 50, maxFillFrames: Int = 25,
        opusBitrate: Int = 16_000, opusComplexity: Int = 5
    ) throws(RecorderError) {
        guard (1...1000).contains(framesPerSegment), (0...1000).contains(maxFillFrames) else {
            throw RecorderError(.invalidArgument, "a segment holds 1...1000 frames and a fill at most 1000 frames")
        }
        switch codec {
        case .pcm16: bytesPerFrame = sampleRate.samplesPerFrame * 2
        case .g711u, .g711a: bytesPerFrame = sampleRate.samplesPerFrame
        case .opus: bytesPerFrame = 2 + Self.opusPacketCap
        case .native:
            throw RecorderError(.unsupportedCodec, "resolve the native codec to the one the call arrived in first")
        }
        if codec == .opus {
            do {
                opus = try OpusEncoder(sampleRate: sampleRate, bitrate: opusBitrate, complexity: opusComplexity)
            } catch {
                throw RecorderError(.unsupportedCodec, "no Opus encoder: \(error.message)")
            }
        } else {
            opus = nil
        }
        self.codec = codec
        self.sampleRate = sampleRate
        self.framesPerSegment = framesPerSegment
        self.maxFillFrames = maxFillFrames
        samplesPerFrame = sampleRate.samplesPerFrame
        buffer = .allocate(byteCount: SegmentPayload.headerByteCount + framesPerSegment * bytesPerFrame, alignment: 16)
        silence = .allocate(capacity: samplesPerFrame)
        silence.initialize(repeating: 0)
    }

    /// The largest Opus packet kept per 20 ms frame: 400 bytes is 160 kb/s, far above what is asked for.
    static let opusPacketCap = 400

    deinit {
        buffer.deallocate()
        silence.deallocate()
    }

    /// Adds one admitted frame; writes each segment it completes to `sink` (at most two: one cut by a
    /// long gap, one completed by the frame).
    @inlinable
    public func append<Sink: SegmentSink>(_ frame: Frame, into sink: Sink) throws(RecorderError) {
        try add(frame.samples, timestampMs: frame.timestampMs, into: sink)
    }

    @usableFromInline
    func add<Sink: SegmentSink>(_ samples: UnsafeMutableBufferPointer<Int16>, timestampMs: Int64, into sink: Sink)
        throws(RecorderError)
    {
        guard samples.count == samplesPerFrame else {
            throw RecorderError(.invalidArgument, "a frame at \(sampleRate) has \(samplesPerFrame) samples, not \(samples.count)")
        }
        if let expected = nextFrameMs {
            if timestampMs < expected - Frame.durationMs / 2 {
                lateFrames += 1
                return
            }
            let skipped = Int((timestampMs - expected + Frame.durationMs / 2) / Frame.durationMs)
            if skipped > maxFillFrames {
                try flush(into: sink)
            } else if skipped > 0 {
                for index in 0..<skipped {
                    try put(UnsafeBufferPointer(silence), timestampMs: expected + Int64(index) * Frame.durationMs, into: sink)
                    filledFrames += 1
                    segmentFilled += 1
                }
            }
        }
        try put(UnsafeBufferPointer(samples), timestampMs: timestampMs, into: sink)
    }

    private func put<Sink: SegmentSink>(_ samples: UnsafeBufferPointer<Int16>, timestampMs: Int64, into sink: Sink)
        throws(RecorderError)
    {
        if frameCount == 0 { writeTimestamp(timestampMs) }
        let offset = cursor
        let target = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + bytesPerFrame)])
        var written = bytesPerFrame
        switch codec {
        case .opus:
            // u16 big-endian length, then the packet (capped so a segment's size is known up front).
            let packet = UnsafeMutableRawBufferPointer(rebasing: target[2...])
            let length: Int
            do { length = try opus!.encode(samples, into: packet) } catch {
                throw RecorderError(.unsupportedCodec, "Opus encoding failed: \(error.message)")
            }
            target[0] = UInt8(length >> 8)
            target[1] = UInt8(length & 0xFF)
            written = 2 + length
        case .pcm16:
            for index in 0..<samplesPerFrame {
                target.storeBytes(of: samples[index].littleEndian, toByteOffset: index * 2, as: Int16.self)
            }
        case .g711u:
            for index in 0..<samplesPerFrame { target[index] = G711.linearToMuLaw(samples[index]) }
        default:
            for index in 0..<samplesPerFrame { target[index] = G711.linearToALaw(samples[index]) }
        }
        cursor += written
        frameCount += 1
        nextFrameMs = timestampMs + Frame.durationMs
        if frameCount == framesPerSegment { try flush(into: sink) }
    }

    /// Writes the partial segment, if any, to `sink` (at call end the caller uses ``takeRemainder()``
    /// instead, to mark it last).
    public func flush<Sink: SegmentSink>(into sink: Sink) throws(RecorderError) {
        guard frameCount > 0 else { return }
        let payload = finishHeader()
        let count = frameCount
        frameCount = 0
        segmentFilled = 0
        try sink.write(segment: payload, frameCount: count)
    }

    /// The partial segment and its frame count (nil if empty), for the writer's final `last` segment;
    /// valid until the next call on this segmenter.
    public func takeRemainder() -> (payload: UnsafeRawBufferPointer, frameCount: Int)? {
        guard frameCount > 0 else { return nil }
        let payload = finishHeader()
        let count = frameCount
        frameCount = 0
        segmentFilled = 0
        return (payload, count)
    }

    private func writeTimestamp(_ timestampMs: Int64) {
        let bits = UInt64(bitPattern: timestampMs)
        for index in 0..<8 { buffer[8 + index] = UInt8(truncatingIfNeeded: bits >> (56 - 8 * UInt64(index))) }
    }

    private func finishHeader() -> UnsafeRawBufferPointer {
        buffer[0] = SegmentPayload.version
        buffer[1] = SegmentPayload.codecByte(codec)
        buffer[2] = UInt8(frameCount >> 8)
        buffer[3] = UInt8(frameCount & 0xFF)
        buffer[4] = UInt8(segmentFilled >> 8)
        buffer[5] = UInt8(segmentFilled & 0xFF)
        buffer[6] = UInt8(samplesPerFrame >> 8)
        buffer[7] = UInt8(samplesPerFrame & 0xFF)
        let end = cursor
        lastPayloadByteCount = end
        cursor = SegmentPayload.headerByteCount
        return UnsafeRawBufferPointer(rebasing: buffer[0..<end])
    }
}
