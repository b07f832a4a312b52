/// Encodes PCM16 samples as a canonical RIFF/WAVE file in memory (44-byte header, then the samples
/// little-endian), for archives that hold audio next to other files without a temporary plaintext file.
///
/// ``AudioFileWriter`` writes WAV through libsndfile to a path; this writes the same format to bytes.
public enum WAVEncoder {
    /// The largest data chunk a RIFF size field (u32) can describe, leaving room for the header.
    public static let maxDataByteCount = Int(UInt32.max) - 36

    /// The WAV bytes of interleaved 16-bit samples (stereo: left, right, left, ...).
    public static func encode(interleaved samples: [Int16], sampleRate: Int, channels: Int) throws(AudioError) -> [UInt8] {
        guard (1...2).contains(channels), samples.count % channels == 0 else {
            throw AudioError(.wrongFrameLength, "\(samples.count) samples do not make whole \(channels)-channel frames")
        }
        guard sampleRate > 0, sampleRate <= 384_000 else {
            throw AudioError(.unsupportedSampleRate, "a WAV file cannot be written at \(sampleRate) Hz")
        }
        let dataBytes = samples.count * 2
        guard dataBytes <= maxDataByteCount else {
            throw AudioError(.unsupportedFormat, "\(dataBytes) bytes of audio do not fit a WAV file (4 GiB at most)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(44 + dataBytes)
        func u32(_ value: Int) { withUnsafeBytes(of: UInt32(value).littleEndian) { bytes.append(contentsOf: $0) } }
        func u16(_ value: Int) { withUnsafeBytes(of: UInt16(value).littleEndian) { bytes.append(contentsOf: $0) } }
        bytes.append(contentsOf: Array("RIFF".utf8))
        u32(36 + dataBytes)
        bytes.append(contentsOf: Array("WAVEfmt ".utf8))
        u32(16)
        u16(1)  // PCM
        u16(channels)
        u32(sampleRate)
        u32(sampleRate * channels * 2)  // byte rate
        u16(channels * 2)  // block align
        u16(16)  // bits per sample
        bytes.append(contentsOf: Array("data".utf8))
        u32(dataBytes)
        #if _endian(little)
            samples.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
            for sample in samples { withUnsafeBytes(of: sample.littleEndian) { bytes.append(contentsOf: $0) } }
        #endif
        return bytes
    }
}
