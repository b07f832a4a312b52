import Benchmark
import CallVaultAudio

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.mallocCountTotal, .throughput, .wallClock], maxDuration: .seconds(2))

    Benchmark("FrameRing next") { benchmark in
        let ring = FrameRing(sampleRate: .hz8000, capacity: 4)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(ring.next(timestampMs: Int64(i) * 20))
        }
    }
}
