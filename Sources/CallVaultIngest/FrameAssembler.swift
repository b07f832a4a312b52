public import CallVaultAudio

/// Turns audio chunks of any size into exact 20 ms PCM16 ``Frame``s with their timeline position.
///
/// Peers send what they like: Twilio 20 ms of μ-law per message (usually), AudioSocket whatever
/// Asterisk forwards, a WebSocket bot arbitrary binary frames — even a PCM16 sample split across
/// two frames. The assembler decodes straight into the slots of a ``FrameRing`` allocated once,
/// carries an odd byte over to the next chunk, and hands out each frame as soon as it is full.
/// After `init` it never allocates.
///
/// Timestamps: a frame's `timestampMs` is the time of its first sample, counted from the last
/// timestamp the protocol gave (Twilio's `media.timestamp`) or from `startMs`, by samples. A chunk
/// whose stamp is within `toleranceMs` of where the audio already is continues it (jitter in the
/// stamps never shifts audio); a stamp further ahead is a gap: the partial frame is padded with
/// silence and handed out, and counting restarts at the new stamp; a stamp further behind would
/// overwrite audio already placed and is refused with `timestampOutOfOrder`.
///
/// One assembler per track, used from one thread at a time.
public final class FrameAssembler {
    public let encoding: IngestAudioEncoding
    public let sampleRate: SampleRate
    /// How far a chunk's timestamp may stray from the sample count before it counts as a gap or overlap.
    public let toleranceMs: Int64
    /// The ring the frames live in: a frame stays valid until `ring.capacity` more frames were made.
    public let ring: FrameRing

    /// Timeline position (ms) that sample 0 of the current run is at.
    var baseMs: Int64
    /// Samples accepted since `baseMs` (including the partial frame).
    var samplesSinceBase: Int64 = 0
    /// Whether any audio arrived yet (the first stamp always just sets the base).
    var started = false
    /// The frame being filled, and how many of its samples are written.
    var current: Frame?
    var fill = 0
    /// The first byte of an L16 sample whose second byte is still in flight.
    var carry: UInt8 = 0
    var hasCarry = false
    /// A gap was seen: the padded partial frame goes out before the chunk's bytes are read, then
    /// counting restarts here.
    var pendingBase: Int64?

    /// - Parameters:
    ///   - encoding: how chunk bytes are encoded.
    ///   - sampleRate: the rate of the incoming audio and of the frames (no resampling here).
    ///   - ringCapacity: how many frames stay valid at once.
    ///   - startMs: where the first sample goes when the protocol gives no timestamps.
    ///   - toleranceMs: see the type's discussion; the default is half a frame.
    public init(
        encoding: IngestAudioEncoding,
        sampleRate: SampleRate,
        ringCapacity: Int = 4,
        startMs: Int64 = 0,
        toleranceMs: Int64 = 10
    ) {
        self.encoding = encoding
        self.sampleRate = sampleRate
        self.toleranceMs = toleranceMs
        self.ring = FrameRing(sampleRate: sampleRate, capacity: ringCapacity)
        self.baseMs = startMs
    }

    /// Samples waiting in the partial frame.
    public var pendingSampleCount: Int { fill }

    /// Where the next sample goes on the timeline, in milliseconds.
    public var nextTimestampMs: Int64 {
        baseMs + samplesSinceBase * 1000 / Int64(sampleRate.rawValue)
    }

    /// Consumes bytes from the front of `chunk` until a frame is full and returns it, or returns
    /// nil once the chunk is used up (the remainder waits for the next chunk).
    ///
    /// - Throws: `timestampOutOfOrder` naming both times, if `chunk.timestampMs` lies before
    ///   audio already received (beyond `toleranceMs`).
    public func nextFrame(from chunk: inout AudioChunk) throws(IngestError) -> Frame? {
        if let stamp = chunk.timestampMs {
            chunk.timestampMs = nil
            try place(stamp)
        }
        if let base = pendingBase {
            pendingBase = nil
            let padded = flush()
            rebase(base)
            if let padded { return padded }
        }
        while !chunk.bytes.isEmpty {
            if try fillCurrent(from: &chunk.bytes) {
                let frame = current
                current = nil
                fill = 0
                return frame
            }
        }
        return nil
    }

    /// Pads the partial frame with silence and returns it (at the end of a stream), or nil if there is none.
    public func flush() -> Frame? {
        hasCarry = false
        guard let frame = current, fill > 0 else { return nil }
        let size = sampleRate.samplesPerFrame
        UnsafeMutableBufferPointer(rebasing: frame.samples[fill..<size]).update(repeating: 0)
        samplesSinceBase += Int64(size - fill)
        current = nil
        fill = 0
        return frame
    }

    /// Reconciles a protocol timestamp with the sample count (see the type's discussion).
    func place(_ stamp: Int64) throws(IngestError) {
        guard started else {
            started = true
            rebase(stamp)
            return
        }
        let expected = nextTimestampMs
        if stamp > expected + toleranceMs {
            if fill > 0 { pendingBase = stamp } else { rebase(stamp) }
        } else if stamp < expected - toleranceMs {
            throw IngestError(
                .timestampOutOfOrder,
                "audio timestamp \(stamp) ms lies before audio already received up to \(expected) ms"
            )
        }
    }

    /// Restarts counting at `stamp`; only called with no partial frame (the slot, if one was
    /// taken, is dropped so the next frame takes a fresh one stamped at the new base).
    func rebase(_ stamp: Int64) {
        baseMs = stamp
        samplesSinceBase = 0
        hasCarry = false
        current = nil
        fill = 0
    }
}
