import CSndFile

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads an audio file through libsndfile (WAV, FLAC, Ogg/Opus, Ogg/Vorbis, and headerless raw
/// μ-law, A-law or PCM16 when told its format), as 16-bit PCM.
///
/// Two ways to read: ``readFrame(into:channels:)`` streams 20 ms mono frames at the file's rate
/// (the mix of all channels or one of them) without allocating, the same frames a live call
/// delivers; ``readAll(_:)`` / ``readAllMono()`` return the whole file as one array.
///
/// Errors name the file and say what was wrong: missing, not audio, cut short (a header promising
/// more audio than the file holds), or a rate the caller cannot use.
public final class AudioFileReader {
    /// A headerless file's encoding, which nothing in the file says.
    public enum RawEncoding: Sendable {
        case muLaw, aLaw, pcm16LittleEndian
    }

    public let path: String
    public let sampleRate: Int
    public let channels: Int
    /// Frames (samples per channel) the header announces.
    public let frameCount: Int
    /// libsndfile's name for the container and encoding, e.g. "WAV (Microsoft) / U-Law".
    public let formatName: String
    let file: OpaquePointer
    /// One 20 ms frame of interleaved samples, allocated once here so `readFrame` never allocates.
    let frameScratch: UnsafeMutableBufferPointer<Int16>
    /// Frames (per channel) handed out so far by `readFrame`, to tell a file cut short from its end.
    var framesDelivered = 0

    /// Opens `path`; pass `raw` (with `rawSampleRate`) for headerless files.
    public init(path: String, raw: RawEncoding? = nil, rawSampleRate: Int = 8000) throws(AudioError) {
        var info = SF_INFO()
        if let raw {
            info.samplerate = Int32(rawSampleRate)
            info.channels = 1
            let encoding: Int32 =
                switch raw {
                case .muLaw: Int32(SF_FORMAT_ULAW)
                case .aLaw: Int32(SF_FORMAT_ALAW)
                case .pcm16LittleEndian: Int32(SF_FORMAT_PCM_16) | Int32(SF_ENDIAN_LITTLE)
                }
            info.format = Int32(SF_FORMAT_RAW) | encoding
        }
        guard let file = sf_open(path, Int32(SFM_READ), &info) else {
            let reason = String(cString: sf_strerror(nil))
            let missing = access(path, R_OK) != 0
            throw AudioError(
                missing ? .fileUnreadable : .fileCorrupt,
                missing
                    ? "\(path): cannot open it (missing or not readable)"
                    : "\(path): not an audio file libsndfile reads (\(reason))"
            )
        }
        guard info.channels >= 1, info.samplerate > 0 else {
            sf_close(file)
            throw AudioError(
                .fileCorrupt,
                "\(path): the header names \(info.channels) channel(s) at \(info.samplerate) Hz"
            )
        }
        if let cut = Self.truncation(file) {
            sf_close(file)
            throw AudioError(.fileCorrupt, "\(path): cut short — \(cut)")
        }
        self.file = file
        self.path = path
        sampleRate = Int(info.samplerate)
        channels = Int(info.channels)
        frameCount = Int(info.frames)
        formatName = Self.describe(format: info.format)
        frameScratch = .allocate(capacity: max(1, Int(info.samplerate) / 50) * Int(info.channels))
        frameScratch.initialize(repeating: 0)
    }

    deinit {
        sf_close(file)
        frameScratch.deallocate()
    }

    /// The duration the header announces, in milliseconds.
    public var durationMs: Int { frameCount * 1000 / max(sampleRate, 1) }

    /// Reads the whole file as mono PCM16 (channels averaged), checking that all announced audio is there.
    public func readAllMono() throws(AudioError) -> [Int16] {
        try readAll(.mix)
    }

    /// Reads the whole file as one mono track (`.mix` averages the channels, `.channel(i)` takes one),
    /// checking that all announced audio is there. Allocates; for files, not for the per-frame path.
    public func readAll(_ selection: ChannelSelection) throws(AudioError) -> [Int16] {
        try check(selection)
        var interleaved = [Int16](repeating: 0, count: frameCount * channels)
        let read = interleaved.withUnsafeMutableBufferPointer { buffer in
            Int(sf_readf_short(file, buffer.baseAddress, sf_count_t(frameCount)))
        }
        guard read == frameCount else {
            throw AudioError(
                .fileCorrupt,
                "\(path): cut short — the header announces \(frameCount) frames, the file holds \(read)"
            )
        }
        guard channels > 1 else { return interleaved }
        if case .channel(let index) = selection {
            return (0..<frameCount).map { interleaved[$0 * channels + index] }
        }
        return (0..<frameCount).map { frame in
            var sum = 0
            for channel in 0..<channels { sum += Int(interleaved[frame * channels + channel]) }
            return Int16(sum / channels)
        }
    }

    /// Reads the next `samples.count` frames of a mono file into `samples` (allocation-free; for
    /// streaming 20 ms frames); returns how many were read (fewer at the end, 0 after it).
    public func read(into samples: UnsafeMutableBufferPointer<Int16>) throws(AudioError) -> Int {
        guard channels == 1 else {
            throw AudioError(
                .unsupportedFormat,
                "\(path): streaming reads take mono files; this one has \(channels) channels"
            )
        }
        return Int(sf_readf_short(file, samples.baseAddress, sf_count_t(samples.count)))
    }

    /// libsndfile opens a WAV whose header promises more audio than the file holds and quietly reads
    /// what is there; its log says so (`data : 14361 (should be 6942)`). A recording cut short is
    /// worth an error, not a shorter file.
    static func truncation(_ file: OpaquePointer) -> String? {
        var log = [CChar](repeating: 0, count: 8192)
        sf_command(file, Int32(SFC_GET_LOG_INFO), &log, Int32(log.count))
        let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("data") && line.contains("(should be") {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            if numbers.count >= 2 {
                return "the header announces \(numbers[0]) bytes of audio, the file holds \(numbers[1])"
            }
            return "the header announces more audio than the file holds"
        }
        return nil
    }

    static func describe(format: Int32) -> String {
        var major = SF_FORMAT_INFO()
        major.format = format & Int32(SF_FORMAT_TYPEMASK)
        var minor = SF_FORMAT_INFO()
        minor.format = format & Int32(SF_FORMAT_SUBMASK)
        let size = Int32(MemoryLayout<SF_FORMAT_INFO>.size)
        let majorName =
            sf_command(nil, Int32(SFC_GET_FORMAT_INFO), &major, size) == 0 && major.name != nil
            ? String(cString: major.name) : "unknown"
        let minorName =
            sf_command(nil, Int32(SFC_GET_FORMAT_INFO), &minor, size) == 0 && minor.name != nil
            ? String(cString: minor.name) : "unknown"
        return "\(majorName) / \(minorName)"
    }
}
