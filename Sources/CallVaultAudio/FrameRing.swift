/// A fixed ring of frame buffers for one track, allocated once when the call is set up.
///
/// `next(timestampMs:)` hands out the oldest slot again, so steady-state audio flows through the
/// same memory forever: no allocation per frame (checked by the malloc-counting benchmarks).
/// One ring belongs to one track and is used from one thread at a time.
public final class FrameRing {
    public let sampleRate: SampleRate
    public let capacity: Int
    @usableFromInline let storage: UnsafeMutableBufferPointer<Int16>
    @usableFromInline var nextSlot: Int = 0

    /// - Parameters:
    ///   - sampleRate: the rate of every frame in this ring.
    ///   - capacity: how many frames stay valid at once (at least 1).
    public init(sampleRate: SampleRate, capacity: Int = 4) {
        precondition(capacity >= 1, "a FrameRing needs at least one slot")
        self.sampleRate = sampleRate
        self.capacity = capacity
        self.storage = .allocate(capacity: capacity * sampleRate.samplesPerFrame)
        self.storage.initialize(repeating: 0)
    }

    deinit {
        storage.deallocate()
    }

    /// The next slot, zero-filled not guaranteed: callers overwrite every sample.
    @inlinable
    public func next(timestampMs: Int64) -> Frame {
        let n = sampleRate.samplesPerFrame
        let start = nextSlot * n
        nextSlot = nextSlot + 1 == capacity ? 0 : nextSlot + 1
        let slice = UnsafeMutableBufferPointer(rebasing: storage[start..<(start + n)])
        return Frame(samples: slice, sampleRate: sampleRate, timestampMs: timestampMs)
    }
}
