/// PCM16 WAV bytes in memory, for the `<audio>` element and downloads (never written to disk).
enum WAVEncoder {
    /// The 44-byte header of a PCM16 WAV of `frames` frames (a frame: one sample per channel).
    static func header(frames: Int, sampleRate: Int, channels: Int) -> [UInt8] {
        let dataBytes = frames * channels * 2
        var out: [UInt8] = []
        out.reserveCapacity(44)
        func u32(_ value: Int) { for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> shift)) } }
        func u16(_ value: Int) { out.append(UInt8(truncatingIfNeeded: value)); out.append(UInt8(truncatingIfNeeded: value >> 8)) }
        out += Array("RIFF".utf8); u32(36 + dataBytes); out += Array("WAVE".utf8)
        out += Array("fmt ".utf8); u32(16); u16(1); u16(channels); u32(sampleRate); u32(sampleRate * channels * 2)
        u16(channels * 2); u16(16)
        out += Array("data".utf8); u32(dataBytes)
        return out
    }

    /// The largest data chunk a WAV can state (its sizes are 32-bit).
    static let maximumDataBytes = Int(UInt32.max) - 36
}
