import CallVaultAudio

extension FrameAssembler {
    /// Decodes as many samples from the front of `bytes` as the current frame has room for,
    /// consuming them; returns true when the frame is full.
    func fillCurrent(from bytes: inout UnsafeRawBufferPointer) throws(IngestError) -> Bool {
        started = true
        let size = sampleRate.samplesPerFrame
        let frame: Frame
        if let current {
            frame = current
        } else {
            frame = ring.next(timestampMs: nextTimestampMs)
            current = frame
            fill = 0
        }
        var room = size - fill
        var written = 0
        do {
            switch encoding {
            case .muLaw:
                let n = min(room, bytes.count)
                try G711.decodeMuLaw(
                    UnsafeRawBufferPointer(rebasing: bytes[..<n]),
                    into: UnsafeMutableBufferPointer(rebasing: frame.samples[fill..<(fill + n)])
                )
                bytes = UnsafeRawBufferPointer(rebasing: bytes[n...])
                written = n
            case .l16LittleEndian, .l16BigEndian:
                let bigEndian = encoding == .l16BigEndian
                if hasCarry {
                    // The sample split across chunks: its first byte waited in `carry`.
                    let first = UInt16(carry)
                    let second = UInt16(bytes[0])
                    let bits = bigEndian ? first << 8 | second : second << 8 | first
                    frame.samples[fill] = Int16(bitPattern: bits)
                    hasCarry = false
                    bytes = UnsafeRawBufferPointer(rebasing: bytes[1...])
                    written = 1
                    room -= 1
                }
                let n = min(room, bytes.count / 2)
                let src = UnsafeRawBufferPointer(rebasing: bytes[..<(2 * n)])
                let dst = UnsafeMutableBufferPointer(rebasing: frame.samples[(fill + written)..<(fill + written + n)])
                if bigEndian {
                    try L16.decodeBigEndian(src, into: dst)
                } else {
                    try L16.decodeLittleEndian(src, into: dst)
                }
                bytes = UnsafeRawBufferPointer(rebasing: bytes[(2 * n)...])
                written += n
                if written < size - fill, bytes.count == 1 {
                    carry = bytes[0]
                    hasCarry = true
                    bytes = UnsafeRawBufferPointer(rebasing: bytes[1...])
                }
            }
        } catch {
            // Unreachable: every length above is computed to match; kept typed, not trapped.
            throw IngestError(.wrongLength, "frame assembly: \(error.message)")
        }
        fill += written
        samplesSinceBase += Int64(written)
        return fill == size
    }
}
