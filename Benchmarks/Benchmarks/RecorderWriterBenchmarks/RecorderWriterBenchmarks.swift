import Benchmark
import CallVaultRecorder
import CallVaultStore
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A data directory with stores, a tenant and a call, made once per process (outside any measurement).
final class WriterBench: @unchecked Sendable {
    let directory: DataDirectory
    let catalog: Catalog
    let keyStore: KeyStore
    let callID: String

    init() {
        var template = Array("/tmp/callvault-writer-bench-XXXXXX".utf8CString)
        let root = String(cString: mkdtemp(&template)!)
        directory = DataDirectory(path: root + "/data")
        try! directory.create()
        try! FileRootKey(path: directory.rootKeyPath).create()
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        keyStore = try! KeyStore(dataDirectory: directory, logger: logger)
        catalog = try! Catalog(directory: directory.path)
        let tenant = try! catalog.addTenant(name: "bench").tenant
        try! keyStore.createTenant(tenant.id)
        callID = try! catalog.registerCall(tenantID: tenant.id, externalID: "bench-call").id
    }

    func writer(_ group: FlushGroup?) -> RecordingWriter {
        try! RecordingWriter(
            catalog: catalog,
            keyStore: keyStore,
            dataDirectory: directory,
            callID: callID,
            track: .caller,
            codec: .g711u,
            sampleRate: 8000,
            maxSegmentByteCount: 8000,
            flushGroup: group
        )
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .throughput, .wallClock],
        maxDuration: .seconds(2),
        maxIterations: 50
    )
    let bench = WriterBench()
    let segment = UnsafeMutableRawBufferPointer.allocate(byteCount: 8000, alignment: 16)
    segment.initializeMemory(as: UInt8.self, repeating: 0xFF)

    // A 60 s call: 60 one-second μ-law segments sealed and appended (one write(2) each). Set-up
    // (catalog row, key, file) is outside the measurement; mallocs are per 60 appends.
    Benchmark("RecordingWriter_append_60x1s_g711u") { benchmark in
        let writer = bench.writer(nil)
        try writer.append(segment: UnsafeRawBufferPointer(segment), frameCount: 50)  // warm up
        benchmark.startMeasurement()
        for _ in 0..<60 {
            try writer.append(segment: UnsafeRawBufferPointer(segment), frameCount: 50)
        }
        benchmark.stopMeasurement()
        try writer.finish()
    }

    // One group flush pass over 10 open recordings with a new segment each (fdatasync × 10), no
    // catalog progress: the pass itself allocates nothing either.
    Benchmark("FlushGroup_pass_10_recordings", configuration: .init(metrics: [.mallocCountTotal, .wallClock])) {
        benchmark in
        let group = FlushGroup()
        let writers = (0..<10).map { _ in bench.writer(group) }
        for writer in writers { try writer.append(segment: UnsafeRawBufferPointer(segment), frameCount: 50) }
        benchmark.startMeasurement()
        blackHole(group.flushNow())
        benchmark.stopMeasurement()
        for writer in writers { try writer.finish() }
    }
}
