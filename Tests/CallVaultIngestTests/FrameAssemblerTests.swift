import CallVaultTestSupport
import Testing

@testable import CallVaultAudio
@testable import CallVaultIngest

@Suite("Frame assembler")
struct FrameAssemblerTests {
    /// Feeds `chunks` (with optional timestamps) and returns every frame as (timestamp, samples).
    func assemble(
        _ assembler: FrameAssembler,
        _ chunks: [([UInt8], Int64?)],
        flush: Bool = false
    ) throws -> [(Int64, [Int16])] {
        var frames: [(Int64, [Int16])] = []
        for (bytes, stamp) in chunks {
            try bytes.withUnsafeBytes { buffer in
                var chunk = AudioChunk(buffer, timestampMs: stamp)
                while let frame = try assembler.nextFrame(from: &chunk) {
                    #expect(frame.samples.count == assembler.sampleRate.samplesPerFrame)
                    frames.append((frame.timestampMs, Array(frame.samples)))
                }
                #expect(chunk.bytes.isEmpty)
            }
        }
        if flush, let frame = assembler.flush() {
            frames.append((frame.timestampMs, Array(frame.samples)))
        }
        return frames
    }

    /// Cuts `bytes` at random places (including single bytes, which split L16 samples).
    func randomSplit(_ bytes: [UInt8], _ random: inout SeededRandom) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var start = 0
        while start < bytes.count {
            let size = Int.random(in: 0...(Bool.random(using: &random) ? 3 : 700), using: &random)
            let end = min(bytes.count, start + size)
            pieces.append(Array(bytes[start..<end]))
            start = end
        }
        return pieces
    }

    /// The reference: decode everything at once, without the assembler.
    func reference(_ bytes: [UInt8], _ encoding: IngestAudioEncoding) -> [Int16] {
        switch encoding {
        case .muLaw: return bytes.map { G711.muLawToLinear($0) }
        case .l16LittleEndian:
            return stride(from: 0, to: bytes.count - 1, by: 2).map {
                Int16(bitPattern: UInt16(bytes[$0 + 1]) << 8 | UInt16(bytes[$0]))
            }
        case .l16BigEndian:
            return stride(from: 0, to: bytes.count - 1, by: 2).map {
                Int16(bitPattern: UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]))
            }
        }
    }

    @Test(
        "property: any split of any encoding gives the frames of the unsplit audio, stamped by sample count",
        arguments: [
            (IngestAudioEncoding.muLaw, SampleRate.hz8000), (.l16LittleEndian, .hz8000),
            (.l16BigEndian, .hz16000), (.l16LittleEndian, .hz48000),
        ]
    )
    func randomSplits(encoding: IngestAudioEncoding, rate: SampleRate) throws {
        var random = SeededRandom(seed: UInt64(rate.rawValue) &+ UInt64(encoding.bytesPerSample))
        for _ in 0..<40 {
            let samples = Int.random(in: 0...(rate.samplesPerFrame * 12), using: &random)
            let bytes = random.bytes(samples * encoding.bytesPerSample)
            let assembler = FrameAssembler(encoding: encoding, sampleRate: rate, startMs: 1000)
            let frames = try assemble(assembler, randomSplit(bytes, &random).map { ($0, nil) })
            let expected = reference(bytes, encoding)
            let size = rate.samplesPerFrame
            #expect(frames.count == samples / size)
            for (index, frame) in frames.enumerated() {
                #expect(frame.0 == 1000 + Int64(index) * 20)
                #expect(frame.1 == Array(expected[(index * size)..<((index + 1) * size)]))
            }
            #expect(assembler.pendingSampleCount == samples % size)
        }
    }

    @Test("Twilio stamps place frames; jitter within tolerance keeps audio contiguous")
    func twilioStamps() throws {
        var random = SeededRandom(seed: 1)
        let assembler = FrameAssembler(encoding: .muLaw, sampleRate: .hz8000)
        let chunks: [([UInt8], Int64?)] = [(random.bytes(160), 5), (random.bytes(160), 27), (random.bytes(160), 43)]
        let frames = try assemble(assembler, chunks)
        #expect(frames.map(\.0) == [5, 25, 45])
        #expect(frames.map(\.1) == chunks.map { reference($0.0, .muLaw) })
    }

    @Test("a gap in the stamps pads the partial frame with silence and restarts at the new stamp")
    func gap() throws {
        var random = SeededRandom(seed: 2)
        let assembler = FrameAssembler(encoding: .muLaw, sampleRate: .hz8000)
        let first = random.bytes(240)  // a frame and a half
        let second = random.bytes(160)
        let frames = try assemble(assembler, [(first, 0), (second, 1000)])
        #expect(frames.map(\.0) == [0, 20, 1000])
        #expect(frames[1].1 == reference(Array(first[160...]), .muLaw) + [Int16](repeating: 0, count: 80))
        #expect(frames[2].1 == reference(second, .muLaw))
        // A gap with no partial frame just moves the stamps.
        let more = try assemble(assembler, [(random.bytes(160), 2000)])
        #expect(more.map(\.0) == [2000])
    }

    @Test("a stamp behind audio already received is refused; flush pads the tail")
    func outOfOrderAndFlush() throws {
        var random = SeededRandom(seed: 3)
        let assembler = FrameAssembler(encoding: .muLaw, sampleRate: .hz8000)
        _ = try assemble(assembler, [(random.bytes(320), 100)])
        let error = ingestError { _ = try assemble(assembler, [(random.bytes(160), 60)]) }
        #expect(
            error
                == IngestError(
                    .timestampOutOfOrder,
                    "audio timestamp 60 ms lies before audio already received up to 140 ms"
                )
        )
        let tail = random.bytes(50)
        let frames = try assemble(assembler, [(tail, nil)], flush: true)
        #expect(frames.count == 1)
        #expect(frames.first?.0 == 140)
        #expect(frames.first?.1 == reference(tail, .muLaw) + [Int16](repeating: 0, count: 110))
        #expect(assembler.flush()?.timestampMs == nil, "nothing is left to flush")
        #expect(assembler.nextTimestampMs == 160)
    }

    @Test("AudioSocket rates the frame path does not carry are refused by name")
    func unsupportedRate() throws {
        #expect(try SampleRate(ingestHertz: 16000) == .hz16000)
        let error = ingestError { _ = try SampleRate(ingestHertz: 44100) }
        #expect(error?.code == .unsupportedSampleRate && error?.message.contains("44100 Hz") == true)
    }
}
