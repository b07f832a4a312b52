import CSndFile

extension AudioFileReader {
    /// Which track a multi-channel file gives when read as mono.
    public enum ChannelSelection: Sendable, Equatable {
        /// The average of all channels (a stereo call export becomes both sides on one track).
        case mix
        /// One channel, 0-based (0 = left, the caller in a CallVault export; 1 = right, the bot).
        case channel(Int)
    }

    /// Samples of one channel in one 20 ms frame at the file's rate.
    public var samplesPerFrame: Int { max(1, sampleRate / 50) }

    /// Reads the next 20 ms of the file as one mono frame into `frame`, allocation-free.
    ///
    /// The file is decoded in place through a scratch buffer made in `init`, so a file can be fed
    /// to the same per-frame code as live audio (probe, simulate, tests).
    /// - Parameters:
    ///   - frame: exactly ``samplesPerFrame`` samples; a short last frame is padded with silence.
    ///   - selection: mix all channels, or take one.
    /// - Returns: how many samples came from the file: ``samplesPerFrame`` until the last frame,
    ///   fewer for the last one, 0 once the file is finished.
    /// - Throws: `wrongFrameLength` for a buffer of another size, `unsupportedFormat` for a channel
    ///   the file does not have, `fileCorrupt` (naming the file) if the audio ends before the header
    ///   said or libsndfile cannot decode it.
    public func readFrame(
        into frame: UnsafeMutableBufferPointer<Int16>,
        channels selection: ChannelSelection = .mix
    ) throws(AudioError) -> Int {
        let n = samplesPerFrame
        guard frame.count == n else {
            throw AudioError(
                .wrongFrameLength,
                "\(path): a 20 ms frame at \(sampleRate) Hz has \(n) samples, not \(frame.count)"
            )
        }
        try check(selection)
        let read = Int(sf_readf_short(file, frameScratch.baseAddress, sf_count_t(n)))
        if read < n {
            if sf_error(file) != 0 {
                throw AudioError(
                    .fileCorrupt,
                    "\(path): cannot decode the audio (\(String(cString: sf_strerror(file))))"
                )
            }
            if framesDelivered + read < frameCount {
                throw AudioError(
                    .fileCorrupt,
                    "\(path): cut short — the header announces \(frameCount) frames, the file holds \(framesDelivered + read)"
                )
            }
        }
        framesDelivered += read
        let scratch = frameScratch
        let stride = channels
        switch selection {
        case .channel(let index):
            for i in 0..<read { frame[i] = scratch[i &* stride &+ index] }
        case .mix where stride == 1:
            for i in 0..<read { frame[i] = scratch[i] }
        case .mix:
            for i in 0..<read {
                var sum = 0
                for c in 0..<stride { sum &+= Int(scratch[i &* stride &+ c]) }
                frame[i] = Int16(truncatingIfNeeded: sum / stride)
            }
        }
        for i in read..<n { frame[i] = 0 }
        return read
    }

    /// Throws `unsupportedFormat` for a channel this file does not have.
    func check(_ selection: ChannelSelection) throws(AudioError) {
        if case .channel(let index) = selection, !(0..<channels).contains(index) {
            throw AudioError(
                .unsupportedFormat,
                "\(path): has \(channels) channel(s); channel \(index) does not exist (0-based)"
            )
        }
    }
}
