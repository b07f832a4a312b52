import Benchmark
import CallVaultAudio

// One iteration is one 20 ms frame of one track, after set-up (codec states, filters, buffers and
// the input speech made before `startMeasurement`), so `mallocCountTotal` must be 0: the committed
// thresholds (Benchmarks/Thresholds/AudioBenchmarks.*) fail `scripts/bench check` on any allocation.
// Throughput is frames per second on one core; divide by 50 for the real-time factor.
// Names have no spaces: `thresholds update` writes files with spaces replaced by `_`, but
// `thresholds check` looks for the raw name, so a name with a space could never be checked.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .throughput, .wallClock],
        scalingFactor: .kilo,
        maxDuration: .seconds(2)
    )

    Benchmark("FrameRing_next") { benchmark in
        let ring = FrameRing(sampleRate: .hz8000, capacity: 4)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(ring.next(timestampMs: Int64(i) * 20))
        }
    }

    for aLaw in [false, true] {
        Benchmark(aLaw ? "G711_alaw_decode_frame_8kHz" : "G711_mulaw_decode_frame_8kHz") { benchmark in
            let speech = SpeechFrames(sampleRate: .hz8000)
            let encoded = UnsafeMutableRawBufferPointer.allocate(byteCount: speech.count * 160, alignment: 16)
            let output = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
            defer {
                encoded.deallocate()
                output.deallocate()
            }
            for f in 0..<speech.count {
                let bytes = UnsafeMutableRawBufferPointer(rebasing: encoded[(f * 160)..<((f + 1) * 160)])
                if aLaw {
                    try? G711.encodeALaw(speech.frame(f), into: bytes)
                } else {
                    try? G711.encodeMuLaw(speech.frame(f), into: bytes)
                }
            }
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations {
                let start = (i % speech.count) * 160
                let frame = UnsafeRawBufferPointer(rebasing: encoded[start..<(start + 160)])
                if aLaw {
                    try? G711.decodeALaw(frame, into: output)
                } else {
                    try? G711.decodeMuLaw(frame, into: output)
                }
                blackHole(output[0])
            }
            benchmark.stopMeasurement()
        }
    }

    for rate in [SampleRate.hz8000, .hz16000] {
        let kHz = rate.rawValue / 1000
        Benchmark("Opus_encode_frame_\(kHz)kHz") { benchmark in
            let speech = SpeechFrames(sampleRate: rate)
            guard let encoder = try? OpusEncoder(sampleRate: rate) else {
                return benchmark.error("cannot create an Opus encoder at \(rate)")
            }
            let packet = UnsafeMutableRawBufferPointer.allocate(
                byteCount: OpusEncoder.maximumPacketBytes,
                alignment: 16
            )
            defer { packet.deallocate() }
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations {
                blackHole(try? encoder.encode(speech.frame(i), into: packet))
            }
            benchmark.stopMeasurement()
        }

        Benchmark("Opus_decode_frame_\(kHz)kHz") { benchmark in
            let speech = SpeechFrames(sampleRate: rate)
            guard let encoder = try? OpusEncoder(sampleRate: rate), let decoder = try? OpusDecoder(sampleRate: rate)
            else {
                return benchmark.error("cannot create an Opus encoder and decoder at \(rate)")
            }
            let slot = OpusEncoder.maximumPacketBytes
            let packets = UnsafeMutableRawBufferPointer.allocate(byteCount: speech.count * slot, alignment: 16)
            let lengths = UnsafeMutableBufferPointer<Int>.allocate(capacity: speech.count)
            let output = UnsafeMutableBufferPointer<Int16>.allocate(capacity: rate.samplesPerFrame)
            defer {
                packets.deallocate()
                lengths.deallocate()
                output.deallocate()
            }
            for f in 0..<speech.count {
                let room = UnsafeMutableRawBufferPointer(rebasing: packets[(f * slot)..<((f + 1) * slot)])
                lengths[f] = (try? encoder.encode(speech.frame(f), into: room)) ?? 0
            }
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations {
                let f = i % speech.count
                let packet = UnsafeRawBufferPointer(rebasing: packets[(f * slot)..<(f * slot + lengths[f])])
                try? decoder.decode(packet, into: output)
                blackHole(output[0])
            }
            benchmark.stopMeasurement()
        }
    }

    for (from, to) in [(SampleRate.hz8000, SampleRate.hz16000), (.hz16000, .hz8000)] {
        Benchmark("Resample_\(from.rawValue / 1000)k_to_\(to.rawValue / 1000)k_frame") { benchmark in
            let speech = SpeechFrames(sampleRate: from)
            let resampler = Resampler(from: from, to: to)
            let output = UnsafeMutableBufferPointer<Int16>.allocate(capacity: to.samplesPerFrame * 2)
            defer { output.deallocate() }
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations {
                blackHole(resampler.process(speech.frame(i), into: output))
            }
            benchmark.stopMeasurement()
        }
    }

    for rate in [SampleRate.hz8000, .hz16000] {
        Benchmark("DTMF_detect_frame_\(rate.rawValue / 1000)kHz") { benchmark in
            let speech = SpeechFrames(sampleRate: rate)
            do {
                var detector = try DTMFDetector(sampleRate: rate)
                benchmark.startMeasurement()
                for i in benchmark.scaledIterations {
                    blackHole(detector.process(speech.frame(i)))
                }
                benchmark.stopMeasurement()
            } catch {
                benchmark.error("DTMFDetector at \(rate): \(error)")
            }
        }
    }

    // The caller's track while the bot speaks: line noise about 60 dB below full scale. Windows this
    // quiet cannot hold a tone, so the detector skips its filters for them (the speech benchmark above
    // is the sounding case).
    Benchmark("DTMF_detect_line_noise_frame_8kHz") { benchmark in
        var generator = SystemRandomNumberGenerator()
        let noise = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 50 * 160)
        defer { noise.deallocate() }
        for i in noise.indices { noise[i] = Int16.random(in: -50...50, using: &generator) }
        do {
            var detector = try DTMFDetector(sampleRate: .hz8000)
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations {
                let start = (i % 50) * 160
                blackHole(detector.process(UnsafeBufferPointer(rebasing: noise[start..<(start + 160)])))
            }
            benchmark.stopMeasurement()
        } catch {
            benchmark.error("DTMFDetector: \(error)")
        }
    }
}
