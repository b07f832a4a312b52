import Benchmark
import CallVaultArchive
import CallVaultAudio
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import CallVaultTranscribe
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A data directory with the sample two-track call recorded through the real recorder, and a queue of
/// jobs for the claim/complete figure. Made once per process, outside any measurement.
final class TranscribeBench: @unchecked Sendable {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("samples").path

    let directory: DataDirectory
    let catalog: Catalog
    let keyStore: KeyStore
    let tenantID: String
    let recordings: [RecordingRecord]

    init() {
        var template = Array("/tmp/callvault-transcribe-bench-XXXXXX".utf8CString)
        let root = String(cString: mkdtemp(&template)!)
        directory = DataDirectory(path: root + "/data")
        try! directory.create()
        try! FileRootKey(path: directory.rootKeyPath).create()
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        keyStore = try! KeyStore(dataDirectory: directory, logger: logger)
        catalog = try! Catalog(directory: directory.path)
        tenantID = try! catalog.addTenant(name: "bench").tenant.id
        try! keyStore.createTenant(tenantID)
        let caller = try! AudioFileReader(path: Self.samples + "/caller.flac").readAllMono()
        let bot = try! AudioFileReader(path: Self.samples + "/bot.flac").readAllMono()
        let callID = try! catalog.registerCall(tenantID: tenantID, externalID: "bench-call").id
        let recorder = CallRecorder(
            callID: callID, settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: .g711u),
            catalog: catalog, keyStore: keyStore, dataDirectory: directory, flushGroup: nil, logger: logger)
        let ring = FrameRing(sampleRate: .hz8000)
        for index in 0..<(min(caller.count, bot.count) / 160) {
            for (track, audio) in [(RecordingTrack.caller, caller), (.bot, bot)] {
                let frame = ring.next(timestampMs: Int64(index) * 20)
                for i in 0..<160 { frame.samples[i] = audio[index * 160 + i] }
                try! recorder.receive(frame, track: track)
            }
        }
        try! recorder.finish(atMs: Int64(caller.count / 8))
        recordings = try! catalog.recordings(inCalls: [callID])
    }

    /// What the worker does before the engine: unseal (audited), decode μ-law, place on the timeline,
    /// resample 8 → 16 kHz; for both tracks. Returns the 16 kHz tracks.
    func prepare() async -> [[Int16]] {
        let exporter = RecordingExporter(
            catalog: catalog, keyStore: keyStore, dataDirectory: directory, payloadFormat: SegmentPayload.format)
        var tracks: [[Int16]] = []
        for recording in recordings {
            let exported = try! await exporter.export(
                recordingID: recording.id, actor: "bench", purpose: "transcription", onTimeline: true)
            tracks.append(Resampler.resample(exported.samples, from: .hz8000, to: .hz16000))
        }
        return tracks
    }

    /// ``prepare()`` from the synchronous set-up of the benchmarks (the exporter is async: it takes the
    /// catalog as an interface); blocks this thread until it is done.
    func prepareBlocking() -> [[Int16]] {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<[[Int16]]>([])
        Task {
            let tracks = await prepare()
            result.withLock { $0 = tracks }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 }
    }

    /// `count` queued jobs (for the queue figure): one call, a job per engine name (jobs are unique per
    /// call and engine), queued in one transaction.
    func queueJobs(_ count: Int) {
        let call = try! catalog.registerCall(tenantID: tenantID, externalID: "queue")
        try! catalog.enqueueJobs((0..<count).map { (call.id, "bench-\($0)") })
    }
}

let benchmarks: @Sendable () -> Void = {
    let bench = TranscribeBench()
    let tracks = bench.prepareBlocking()

    // The worker's own work per call, to compare with the engines' time on the same audio below:
    // the goal is ≤ 5 % of engine time.
    Benchmark(
        "Transcription_prepare_46s_call_2_tracks",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(10), maxIterations: 10)
    ) { benchmark async in
        for _ in benchmark.scaledIterations { blackHole(await bench.prepare()) }
    }

    Benchmark(
        "Transcription_pocketsphinx_46s_call_2_tracks",
        configuration: .init(metrics: [.wallClock], maxDuration: .seconds(60), maxIterations: 2)
    ) { benchmark in
        let engine = try! PocketSphinxEngine()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for track in tracks { blackHole(try! engine.transcribe(track, options: TranscriptionOptions())) }
        }
        benchmark.stopMeasurement()
    }

    if let installation = try? WhisperInstallation.locate() {
        Benchmark(
            "Transcription_whisper_46s_call_2_tracks",
            configuration: .init(metrics: [.wallClock], maxDuration: .seconds(60), maxIterations: 2)
        ) { benchmark in
            let engine = try! WhisperEngine(configuration: .init(installation: installation))
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for track in tracks { blackHole(try! engine.transcribe(track, options: TranscriptionOptions())) }
            }
            benchmark.stopMeasurement()
            let overhead = (engine.requestSeconds - engine.modelSeconds) / max(engine.modelSeconds, 1e-9)
            print("whisper sidecar protocol overhead: \(String(format: "%.2f", overhead * 100))% of model time")
        }
    }

    // Queue throughput: one claim (a checked UPDATE under a lease) and one completion per job, on the
    // real SQLite catalog (WAL, synchronous writes as configured). Goal ≥ 5,000 jobs/s.
    let jobs = 120_000
    bench.queueJobs(jobs)
    Benchmark(
        "Queue_claim_complete_1000_jobs",
        configuration: .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(20), maxIterations: 10)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            for _ in 0..<1000 {
                guard let job = try! bench.catalog.claimJob(workerID: "bench", lease: .seconds(60))
                else { fatalError("the benchmark queue ran dry") }
                try! bench.catalog.completeJob(jobID: job.id, workerID: "bench")
            }
        }
    }

    // The same work in batches of 100 per transaction (claimJobs / completeJobs): what a worker that
    // fetches ahead, or a fleet draining a backlog, gets from SQLite.
    Benchmark(
        "Queue_claim_complete_1000_jobs_batched_100",
        configuration: .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(20), maxIterations: 100)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            for _ in 0..<10 {
                let claimed = try! bench.catalog.claimJobs(workerID: "bench", limit: 100, lease: .seconds(60))
                guard claimed.count == 100 else { fatalError("the benchmark queue ran dry") }
                try! bench.catalog.completeJobs(ids: claimed.map(\.id), workerID: "bench")
            }
        }
    }
}
