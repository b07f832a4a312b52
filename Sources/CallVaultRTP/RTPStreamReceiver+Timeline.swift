extension RTPStreamReceiver {
    /// The timeline position of RTP timestamp `timestamp` in this epoch, measured from the newest
    /// in-order packet (a signed 32-bit difference, so the 2^32 wrap is transparent).
    func position(of timestamp: UInt32, clock: Int) -> Int64 {
        let ticks = Int64(Int32(bitPattern: timestamp &- referenceTimestamp))
        return referencePosition + ticks * Int64(sampleRate.rawValue) / Int64(clock)
    }

    /// Begins an epoch (first packet, new SSRC, or a timeline restart) with `header` at `position`.
    func startEpoch(_ header: RTPHeader, at position: Int64, arrival: UInt64) {
        ssrc = header.ssrc
        sequence = RTPSequence(minSequential: configuration.minSequential)
        seen.reset()
        events.reset()
        g722?.reset()
        opus?.reset()
        rebase(header.timestamp, at: position, arrival: arrival)
    }

    /// Measures later timestamps from `timestamp` at `position`.
    func rebase(_ timestamp: UInt32, at position: Int64, arrival: UInt64) {
        referenceTimestamp = timestamp
        referencePosition = position
        lastArrival = arrival
        lastPacketSamples = 0
    }

    /// The furthest the timeline may reach at `arrival`: the stream's first packet's arrival
    /// anchors position 0, and audio may run at most `toleranceSamples` ahead of the time that
    /// passed since. One anchor for the whole stream (not per epoch), so no sequence of restarts or
    /// SSRC changes can make more audio than real time.
    func wallClockLimit(arrival: UInt64) -> Int64 {
        anchorPosition + samples(nanoseconds: arrival &- anchorArrival) + toleranceSamples
    }

    /// Where a restarted timeline goes on: after the audio written so far, plus the silence that the
    /// arrival clock says passed since the last packet ended (at most `maxGapSamples`, and never
    /// past the wall-clock limit).
    func restartPosition(arrival: UInt64, count: Int64 = 0) -> Int64 {
        let elapsed = samples(nanoseconds: arrival &- lastArrival) - lastPacketSamples
        let end = max(highWater, emitted)
        let start = end + min(max(elapsed, 0), maxGapSamples)
        return min(start, max(end, wallClockLimit(arrival: arrival) - count))
    }

    func samples(nanoseconds: UInt64) -> Int64 {
        // Saturate rather than overflow for absurd clocks (or an arrival before the last one).
        guard nanoseconds < 1 << 62 else { return 0 }
        let ms = Int64(nanoseconds / 1_000_000)
        return min(ms, 1 << 40) * Int64(sampleRate.rawValue) / 1000
    }

    /// Puts `count` decoded samples from `scratch` on the timeline and hands out the frames that
    /// are now out of the reorder window.
    func place<Sink: RTPStreamSink>(
        _ count: Int, header: RTPHeader, codec: RTPCodec, inOrder: Bool, arrival: UInt64, into sink: inout Sink
    ) -> RTPReceiveOutcome {
        let n = Int64(count)
        var start = position(of: header.timestamp, clock: codec.rtpClockRate)
        if inOrder {
            let jumpedBack = start + n <= emitted
            let jumpedAhead = start - highWater > maxGapSamples || start + n > wallClockLimit(arrival: arrival)
            if jumpedBack || jumpedAhead {
                counters.timelineRestarts += 1
                start = restartPosition(arrival: arrival, count: n)
                rebase(header.timestamp, at: start, arrival: arrival)
            } else {
                referenceTimestamp = header.timestamp
                referencePosition = start
            }
            lastArrival = arrival
            lastPacketSamples = n
        } else if start + n <= emitted || start > highWater {
            counters.late += 1
            return .late
        }
        // Room in the ring: a long (allowed) gap hands out silence until the packet fits.
        while start + n - emitted > Int64(pcm.count) { emitFrame(into: &sink) }
        write(count, at: start)
        highWater = max(highWater, start + n)
        counters.audioPackets += 1
        let frame = Int64(sampleRate.samplesPerFrame)
        while emitted + frame <= highWater - windowSamples { emitFrame(into: &sink) }
        return .audio
    }

    /// Copies `scratch[0..<count]` to timeline positions `start...`, skipping what was handed out.
    func write(_ count: Int, at start: Int64) {
        let size = Int64(pcm.count)
        var i = start < emitted ? Int(emitted - start) : 0
        while i < count {
            let slot = Int((start + Int64(i)) % size)
            let run = min(count - i, pcm.count - slot)
            _ = UnsafeMutableBufferPointer(rebasing: pcm[slot..<(slot + run)])
                .update(fromContentsOf: UnsafeBufferPointer(rebasing: scratch[i..<(i + run)]))
            i += run
        }
    }

    /// Hands out the frame at `emitted` and clears its samples in the PCM ring.
    func emitFrame<Sink: RTPStreamSink>(into sink: inout Sink) {
        let n = sampleRate.samplesPerFrame
        let frame = ring.next(timestampMs: timestampMs(at: emitted))
        // The ring's size is a multiple of the frame size and `emitted` is frame-aligned: one run.
        let slot = Int(emitted % Int64(pcm.count))
        let source = UnsafeMutableBufferPointer(rebasing: pcm[slot..<(slot + n)])
        _ = frame.samples.update(fromContentsOf: source)
        source.update(repeating: 0)
        emitted += Int64(n)
        counters.frames += 1
        sink.receive(frame: frame)
    }
}
