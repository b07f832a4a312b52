import CallVaultArchive
import Synchronization

/// A call's two tracks as one stereo PCM16 WAV (caller left, bot right), opened and indexed but not
/// decrypted into memory: its exact length is known up front (the longest track's samples on the
/// call's timeline, the shorter track padded with silence, as the whole-call export was), and any byte
/// range of it is produced a chunk at a time, decrypting only the segments that range covers.
struct StereoCallAudio: Sendable {
    /// The caller's track (left) and the bot's (right); nil: that channel is silence.
    let left: IndexedRecording?
    let right: IndexedRecording?
    let sampleRate: Int
    /// Stereo frames: the longest track's samples.
    let frameCount: Int

    static let headerByteCount = 44
    /// Stereo frames per chunk sent (32 KB of WAV).
    static let chunkFrames = 8192

    init(left: IndexedRecording?, right: IndexedRecording?, sampleRate: Int) {
        self.left = left
        self.right = right
        self.sampleRate = sampleRate
        frameCount = max(left?.sampleCount ?? 0, right?.sampleCount ?? 0)
    }

    /// The WAV's bytes, header included: what `Content-Length` says.
    var byteCount: Int { Self.headerByteCount + frameCount * 4 }

    var header: [UInt8] { WAVEncoder.header(frames: frameCount, sampleRate: sampleRate, channels: 2) }

    /// The most bytes a body of this audio holds at once: a chunk of WAV and the slice of it sent, each
    /// track's samples for it, and each track's one decoded segment — whatever the call's length.
    var bufferBound: Int {
        let segments = [left, right].compactMap { $0 }.map { $0.largestSegmentSampleCount * 2 }.reduce(0, +)
        return 2 * Self.chunkFrames * 4 + 2 * Self.chunkFrames * 2 + segments
    }

    /// Bytes `range` of the WAV (within ``byteCount``), as a body produced chunk by chunk.
    func body(_ range: Range<Int>) -> ConsoleBodyStream {
        let producer = Producer(self, range: range)
        return ConsoleBodyStream(
            length: range.count,
            next: { () throws(RecorderError) -> [UInt8]? in try await producer.next() },
            peakBufferedBytes: { producer.peak }
        )
    }

    /// One body's reading state: the cursors and how far it got.
    final class Producer: Sendable {
        struct State {
            var cursors: [IndexedRecording.Cursor?]
            var position: Int
            var peak = 0
        }

        let audio: StereoCallAudio
        let end: Int
        let state: Mutex<State>

        init(_ audio: StereoCallAudio, range: Range<Int>) {
            self.audio = audio
            end = range.upperBound
            state = Mutex(State(cursors: [audio.left?.cursor(), audio.right?.cursor()], position: range.lowerBound))
        }

        var peak: Int { state.withLock { $0.peak } }

        func next() async throws(RecorderError) -> [UInt8]? {
            try await IndexedRecording.reading([audio.left, audio.right].compactMap { $0 }) {
                () throws(RecorderError) -> [UInt8]? in
                try self.state.withLock { state throws(RecorderError) -> [UInt8]? in try self.produce(&state) }
            }
        }

        /// The next chunk: the header's bytes, or up to ``chunkFrames`` frames (the range's own bytes of them).
        private func produce(_ state: inout State) throws(RecorderError) -> [UInt8]? {
            let position = state.position, header = StereoCallAudio.headerByteCount
            guard position < end else { return nil }
            if position < header {
                let bytes = Array(audio.header[position..<min(header, end)])
                state.position += bytes.count
                return bytes
            }
            let first = (position - header) / 4
            let frames = first..<min(first + StereoCallAudio.chunkFrames, (end - 1 - header) / 4 + 1)
            var wav = [UInt8](repeating: 0, count: frames.count * 4)
            var held = 0
            for (channel, cursor) in state.cursors.enumerated() {
                guard let cursor else { continue }
                let samples = try cursor.samples(frames)
                held += samples.count * 2 + cursor.peakHeldSamples * 2
                wav.withUnsafeMutableBytes { out in
                    let target = out.bindMemory(to: Int16.self)
                    samples.withUnsafeBufferPointer { source in
                        var (from, to) = (0, channel)
                        while from < source.count {
                            target[to] = source[from].littleEndian
                            from += 1
                            to += 2
                        }
                    }
                }
            }
            let base = header + first * 4
            let slice = (position - base)..<(min(end, base + wav.count) - base)
            let bytes = slice.count == wav.count ? wav : Array(wav[slice])
            state.peak = max(state.peak, held + wav.count + bytes.count)
            state.position += bytes.count
            return bytes
        }
    }
}
