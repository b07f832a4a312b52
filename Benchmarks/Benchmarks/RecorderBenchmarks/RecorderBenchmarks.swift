import Benchmark
import CallVaultAudio
import CallVaultCrypto
import CallVaultIngest
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import Foundation
import Logging

/// A real data directory (root key, key store, catalog) with one tenant and one call.
final class BenchmarkCall {
    let root: String
    let recorder: CallRecorder

    init(codec: StorageCodec) throws {
        root = NSTemporaryDirectory() + "callvault-recorder-bench-\(UUID().uuidString)"
        let directory = DataDirectory(path: root)
        try directory.create()
        try FileRootKey(path: directory.rootKeyPath).create()
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let keyStore = try KeyStore(dataDirectory: directory, logger: logger)
        let catalog = try Catalog(path: directory.catalogPath)
        let tenant = try catalog.addTenant(name: "bench").tenant
        try keyStore.createTenant(tenant.id)
        let call = try catalog.registerCall(tenantID: tenant.id, externalID: "CA-bench")
        recorder = CallRecorder(
            callID: call.id, settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: codec),
            catalog: catalog, keyStore: keyStore, dataDirectory: directory, flushGroup: nil, logger: logger)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }
}

/// A Twilio `media` message for `track` at `timestampMs`: 20 ms of 8 kHz μ-law.
func twilioMedia(track: String, timestampMs: Int64) -> [UInt8] {
    let payload = Data((0..<160).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }).base64EncodedString()
    return Array(
        (#"{"event":"media","sequenceNumber":"1","media":{"track":"\#(track)","chunk":"1","timestamp":"\#(timestampMs)","#
            + #""payload":""# + payload + #""},"streamSid":"MZ1"}"#).utf8)
}

// The whole hot path per 20 ms frame, after the call is set up and its recording open: gate, DTMF
// detection (caller track), segmenting, and every 50th frame sealing a 1 s segment and appending it
// to the file. mallocCountTotal must be 0 per frame (thresholds committed).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .throughput, .wallClock], scalingFactor: .kilo, maxDuration: .seconds(3))

    for codec in [StorageCodec.g711u, .pcm16] {
        Benchmark("Recorder_frame_gate_segment_seal_\(codec.rawValue)") { benchmark in
            guard let call = try? BenchmarkCall(codec: codec) else { return }
            let ring = FrameRing(sampleRate: .hz8000)
            var time: Int64 = 0
            func next() -> Frame {
                let frame = ring.next(timestampMs: time)
                for i in 0..<160 { frame.samples[i] = Int16(truncatingIfNeeded: (i &* 97) & 0x3FFF) }
                time += 20
                return frame
            }
            // Set-up: open the recording and seal the first segments.
            for _ in 0..<120 { _ = try? call.recorder.receive(next(), track: .caller) }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                _ = try? call.recorder.receive(next(), track: .caller)
            }
            benchmark.stopMeasurement()
        }
    }

    Benchmark("HotPath_twilio_media_to_sealed_file") { benchmark in
        guard let call = try? BenchmarkCall(codec: .g711u) else { return }
        // 60 s of messages, both tracks interleaved, made before measuring.
        let messages = (0..<3000).flatMap { frame in
            ["inbound", "outbound"].map { twilioMedia(track: $0, timestampMs: Int64(frame) * 20) }
        }
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16)
        defer { payload.deallocate() }
        let assemblers = [FrameAssembler(encoding: .muLaw, sampleRate: .hz8000), FrameAssembler(encoding: .muLaw, sampleRate: .hz8000)]
        func process(_ message: [UInt8]) {
            message.withUnsafeBytes { text in
                guard case .media(let media)? = try? TwilioMessage.parse(text, payloadInto: payload) else { return }
                let index = media.track == .inbound ? 0 : 1
                var chunk = AudioChunk(UnsafeRawBufferPointer(rebasing: payload[0..<media.payloadCount]), timestampMs: media.timestampMs)
                while let frame = try? assemblers[index].nextFrame(from: &chunk) {
                    _ = try? call.recorder.receive(frame, track: index == 0 ? .caller : .bot)
                }
            }
        }
        for message in messages.prefix(240) { process(message) }  // set-up: both recordings open
        var cursor = 240
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            process(messages[cursor])
            cursor += 1
            if cursor == messages.count { cursor = 240 }
        }
        benchmark.stopMeasurement()
    }

    // Socket to disk (issue 20): a masked WebSocket frame carrying a Twilio `media` message, through NIO's
    // frame decoder, the media handler, the session and the recorder to the sealed file, once the call is
    // set up and both recordings are open (one call, set up once, streaming on across runs).
    // mallocCountTotal per message is gated (thresholds committed).
    Benchmark("SocketToDisk_twilio_masked_frame_to_sealed_file") { benchmark in
        streamMedia(benchmark, into: socketToDiskCalls(1))
    }

    // The same with 1,000 calls taken in turn (both tracks of one, then the next): every call's state is cold
    // when its turn comes, as in a live server at that load. Against the one-call figure: what the working
    // set of many calls costs per message. Setting the calls up takes a while (their catalog rows, keys and files).
    Benchmark("SocketToDisk_1000_calls_in_turn") { benchmark in
        streamMedia(benchmark, into: socketToDiskCalls(1000))
    }
}

/// Measures `benchmark`'s iterations of one media message each, sent on the calls' loop.
private func streamMedia(_ benchmark: Benchmark, into calls: SocketToDiskCalls?) {
    guard let calls else { return }
    let iterations = benchmark.scaledIterations
    let measured = UncheckedSendable(benchmark)
    try? calls.submit { calls in
        measured.value.startMeasurement()
        for _ in iterations { try calls.sendMedia() }
        measured.value.stopMeasurement()
    }
}

/// The calls the socket-to-disk benchmarks stream into, by count (set up on first use: a second for one
/// call, about a minute for a thousand).
nonisolated(unsafe) private var sharedSocketToDiskCalls: [Int: SocketToDiskCalls] = [:]

private func socketToDiskCalls(_ count: Int) -> SocketToDiskCalls? {
    if sharedSocketToDiskCalls[count] == nil {
        do { sharedSocketToDiskCalls[count] = try SocketToDiskCalls(count: count) } catch {
            print("socket-to-disk calls not set up: \(error)")
        }
        // The calls live as long as the process: their data directory (sealed audio) goes at exit.
        if sharedSocketToDiskCalls.count == 1 { atexit { sharedSocketToDiskCalls = [:] } }
    }
    return sharedSocketToDiskCalls[count]
}

/// Hands the benchmark to the loop thread that runs the measured messages; the benchmark thread waits meanwhile.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
