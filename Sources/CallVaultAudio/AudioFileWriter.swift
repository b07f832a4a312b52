import CSndFile

/// Writes PCM16 audio to a file through libsndfile, the container chosen by the extension:
/// `.wav` (PCM 16-bit), `.flac`, `.ogg`/`.opus` (Ogg/Opus; 8, 12, 16, 24 or 48 kHz).
public final class AudioFileWriter {
    public let path: String
    public let sampleRate: Int
    public let channels: Int
    private var file: OpaquePointer?

    public init(path: String, sampleRate: Int, channels: Int = 1) throws(AudioError) {
        guard (1...2).contains(channels) else {
            throw AudioError(.unsupportedFormat, "\(path): CallVault writes mono or stereo, not \(channels) channels")
        }
        let lower = path.lowercased()
        let format: Int32
        if lower.hasSuffix(".wav") {
            format = Int32(SF_FORMAT_WAV) | Int32(SF_FORMAT_PCM_16)
        } else if lower.hasSuffix(".flac") {
            format = Int32(SF_FORMAT_FLAC) | Int32(SF_FORMAT_PCM_16)
        } else if lower.hasSuffix(".ogg") || lower.hasSuffix(".opus") {
            guard [8000, 12000, 16000, 24000, 48000].contains(sampleRate) else {
                throw AudioError(
                    .unsupportedFormat,
                    "\(path): Ogg/Opus takes 8, 12, 16, 24 or 48 kHz, not \(sampleRate) Hz"
                )
            }
            format = Int32(SF_FORMAT_OGG) | Int32(SF_FORMAT_OPUS)
        } else {
            throw AudioError(.unsupportedFormat, "\(path): unknown extension (use .wav, .flac, .ogg or .opus)")
        }
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = Int32(channels)
        info.format = format
        guard let file = sf_open(path, Int32(SFM_WRITE), &info) else {
            throw AudioError(.fileWriteFailed, "\(path): cannot create it (\(String(cString: sf_strerror(nil))))")
        }
        self.file = file
        self.path = path
        self.sampleRate = sampleRate
        self.channels = channels
    }

    deinit { if let file { sf_close(file) } }

    /// Writes interleaved samples (for stereo: left, right, left, ...).
    public func write(_ interleaved: UnsafeBufferPointer<Int16>) throws(AudioError) {
        guard let file else { throw AudioError(.fileWriteFailed, "\(path): already closed") }
        guard interleaved.count % channels == 0 else {
            throw AudioError(
                .wrongFrameLength,
                "\(path): \(interleaved.count) samples do not divide into \(channels) channels"
            )
        }
        let frames = sf_count_t(interleaved.count / channels)
        guard sf_writef_short(file, interleaved.baseAddress, frames) == frames else {
            throw AudioError(.fileWriteFailed, "\(path): write failed (\(String(cString: sf_strerror(file))))")
        }
    }

    public func write(_ interleaved: [Int16]) throws(AudioError) {
        try interleaved.withUnsafeBufferPointer { buffer throws(AudioError) in try write(buffer) }
    }

    /// Finishes the file (headers, Ogg pages) and closes it.
    public func close() throws(AudioError) {
        guard let file else { return }
        self.file = nil
        guard sf_close(file) == 0 else {
            throw AudioError(.fileWriteFailed, "\(path): closing failed; the file may be incomplete")
        }
    }
}
