import CallVaultAudio
import CallVaultModel
import NIOCore

/// A call's frames held while the catalog answers (the call's row, a track's first recording row, a
/// consent decision's evidence), in arrival order, to be recorded once it has answered.
///
/// Bounded and allocated once per call: `capacity` slots whose samples are copied in (a frame's own
/// samples live in its assembler's ring and are reused). The sample storage is sized for the first
/// frame held and regrown only if a later frame is larger (a stream changing to a higher rate), so
/// holding frames does not allocate per frame. A sender faster than real time (a test, a replay) can
/// outrun a slow answer: then the slots double (amortised, and only while the catalog lags) and the
/// stream stops reading at ``pauseAt`` until the catalog catches up; past ``maximumCapacity`` (only a
/// single huge read could get there) the call is refused. Used on the call's event loop only.
final class HeldFrames {
    /// Slots: at 20 ms per frame, 100 frames are 2 s of one track or 1 s of two, as much as the
    /// segmenter holds before it seals.
    static let defaultCapacity = 100
    /// 60 s of one track (30 s of two): a catalog slower than that refuses the call. Reading pauses long
    /// before (``pauseAt``); only what one read brings in after the pause lands above it.
    static let maximumCapacity = 3_000
    /// Held frames at which the stream stops reading: 4 s of one track, 2 s of two at real time.
    static let pauseAt = 200
    /// Held frames at which a paused stream reads again.
    static let resumeAt = 50

    struct Slot {
        var track: RecordingTrack = .caller
        var sampleRate: SampleRate = .hz8000
        var timestampMs: Int64 = 0
        var count = 0
        var receivedAt = NIODeadline.uptimeNanoseconds(0)
    }

    private(set) var capacity: Int
    private var slots: [Slot]
    private var samples: UnsafeMutableBufferPointer<Int16>?
    private var samplesPerSlot = 0
    /// Sequence numbers: frames `head..<tail` are held; slot = sequence % capacity.
    private(set) var head = 0
    private(set) var tail = 0

    init(capacity: Int = HeldFrames.defaultCapacity) {
        self.capacity = capacity
        slots = Array(repeating: Slot(), count: capacity)
    }

    deinit { samples?.deallocate() }

    var isEmpty: Bool { head == tail }
    var isFull: Bool { tail - head == capacity }
    var count: Int { tail - head }

    /// Copies `frame` in behind the others; false when full (the caller refuses the call).
    func append(_ frame: Frame, track: RecordingTrack, receivedAt: NIODeadline, growing: Bool = false) -> Bool {
        if isFull {
            guard growing, capacity < Self.maximumCapacity else { return false }
            grow(to: min(capacity * 2, Self.maximumCapacity))
        }
        let needed = frame.samples.count
        if needed > samplesPerSlot { regrow(to: needed) }
        let index = tail % capacity
        let target = samples!.baseAddress! + index * samplesPerSlot
        target.update(from: frame.samples.baseAddress!, count: needed)
        slots[index] = Slot(
            track: track, sampleRate: frame.sampleRate, timestampMs: frame.timestampMs, count: needed,
            receivedAt: receivedAt)
        tail += 1
        return true
    }

    /// The oldest held frame (a view valid until it is removed), with its track and arrival time.
    func first() -> (frame: Frame, track: RecordingTrack, receivedAt: NIODeadline)? {
        guard !isEmpty else { return nil }
        let index = head % capacity
        let slot = slots[index]
        let view = UnsafeMutableBufferPointer(start: samples!.baseAddress! + index * samplesPerSlot, count: slot.count)
        return (Frame(samples: view, sampleRate: slot.sampleRate, timestampMs: slot.timestampMs), slot.track, slot.receivedAt)
    }

    func removeFirst() {
        precondition(!isEmpty)
        head += 1
    }

    /// Drops every held frame (the call was refused: nothing of it is recorded).
    func removeAll() { head = tail }

    /// More slots, each held frame moved to its slot under the new capacity (sequence numbers stay).
    private func grow(to newCapacity: Int) {
        let perSlot = samplesPerSlot
        var newSlots = Array(repeating: Slot(), count: newCapacity)
        let storage: UnsafeMutableBufferPointer<Int16>? =
            perSlot > 0 ? .allocate(capacity: perSlot * newCapacity) : nil
        storage?.initialize(repeating: 0)
        for sequence in head..<tail {
            let from = sequence % capacity
            let to = sequence % newCapacity
            newSlots[to] = slots[from]
            if let storage, let old = samples {
                (storage.baseAddress! + to * perSlot).update(
                    from: old.baseAddress! + from * perSlot, count: slots[from].count)
            }
        }
        samples?.deallocate()
        samples = storage
        slots = newSlots
        capacity = newCapacity
    }

    /// Larger storage for every slot, the held frames moved over (rare: once per call at most per rate).
    private func regrow(to perSlot: Int) {
        let storage = UnsafeMutableBufferPointer<Int16>.allocate(capacity: perSlot * capacity)
        storage.initialize(repeating: 0)
        if let old = samples {
            for sequence in head..<tail {
                let index = sequence % capacity
                (storage.baseAddress! + index * perSlot).update(
                    from: old.baseAddress! + index * samplesPerSlot, count: slots[index].count)
            }
            old.deallocate()
        }
        samples = storage
        samplesPerSlot = perSlot
    }
}
