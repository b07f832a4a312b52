import ArgumentParser
import CallVaultArchive
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `callvault _record-sample` (hidden, for tests): records a synthetic 1 kHz tone in real time through
/// RecordingWriter and FlushGroup, so a test can kill the process mid-recording and check recovery.
///
/// stdout, one line each, flushed at once: `{"callId":…,"recordingId":…,"path":…}` when the recording
/// is open, then `appended INDEX MS` after each segment's `write(2)` (MS: wall-clock milliseconds since
/// 1970), then `finished` after a clean end.
struct RecordSampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_record-sample",
        abstract: "Record a synthetic tone through the recorder (test-only).",
        shouldDisplay: false
    )

    @OptionGroup var dataOptions: DataOptions

    @Option(name: .long, help: "The tenant id to record for.")
    var tenant: String

    @Option(name: .long, help: "How long to record, in seconds.")
    var seconds: Double = 10

    @Option(name: .long, help: "Segment duration in milliseconds (a multiple of 20).")
    var segmentMs: Int = 1000

    @Option(name: .long, help: "Flush interval in milliseconds.")
    var flushMs: Int = 1000

    @Option(name: .long, help: "The caller's phone number (stored only as the tenant's keyed hash).")
    var caller: String?

    func validate() throws {
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600]") }
        guard segmentMs >= 20, segmentMs <= 4000, segmentMs % 20 == 0 else {
            throw ValidationError("--segment-ms must be a multiple of 20 in 20...4000")
        }
        guard flushMs >= 1, flushMs <= 60_000 else { throw ValidationError("--flush-ms must be 1...60000") }
    }

    func run() throws {
        ProcessHardening.disableCoreDumps()
        var logger = Logger(label: "callvault.record-sample")
        logger.logLevel = .warning
        let (stores, catalog) = try RetentionStores.openEmbedded(dataOptions, logger: logger)
        do {
            try record(stores, catalog: catalog, logger: logger)
        } catch let error as RecorderError {
            throw CLIError.failure(error.message, hint: "check the data directory and the tenant id")
        } catch let error as CatalogError {
            throw CLIError.failure(error.message, hint: CatalogCommandSupport.hint(for: error.code))
        }
    }

    private func record(_ stores: RetentionStores, catalog: Catalog, logger: Logger) throws {
        let rate = 8000
        let callerKeys = try caller.map { _ in try stores.keyStore.callerKeys(tenantID: tenant) }
        let call = try catalog.registerCall(
            tenantID: tenant, externalID: "sample-" + UUID().uuidString, callerNumber: caller, callerKeys: callerKeys)
        let group = FlushGroup(
            interval: .milliseconds(flushMs),
            catalog: catalog,
            progressInterval: .seconds(2),
            logger: logger
        )
        let writer = try RecordingWriter(
            catalog: catalog,
            keyStore: stores.keyStore,
            dataDirectory: stores.directory,
            callID: call.id,
            track: .caller,
            codec: .pcm16,
            sampleRate: rate,
            flushGroup: group
        )
        group.start()
        emit("{\"callId\":\"\(call.id)\",\"recordingId\":\"\(writer.recording.id)\",\"path\":\"\(writer.filePath)\"}")

        let samplesPerSegment = rate * segmentMs / 1000
        let segment = UnsafeMutableBufferPointer<Int16>.allocate(capacity: samplesPerSegment)
        defer { segment.deallocate() }
        let segmentCount = Int((seconds * 1000 / Double(segmentMs)).rounded(.up))
        let start = Date()
        var sample = 0
        for index in 0..<segmentCount {
            // Real time: a segment is appended when its audio has "arrived".
            let due = start.addingTimeInterval(Double((index + 1) * segmentMs) / 1000)
            let wait = due.timeIntervalSinceNow
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            for i in 0..<samplesPerSegment {
                segment[i] = Int16(12_000 * sin(2 * Double.pi * 1000 * Double(sample + i) / Double(rate))).littleEndian
            }
            sample += samplesPerSegment
            try writer.append(segment: UnsafeRawBufferPointer(segment), frameCount: segmentMs / 20)
            emit("appended \(index) \(Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))")
        }
        try writer.finish()
        group.stop()
        emit("finished")
    }

    /// One stdout line, written at once (the test reads it while the process runs).
    private func emit(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }
}
