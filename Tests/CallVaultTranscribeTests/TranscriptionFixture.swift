import CallVaultArchive
import CallVaultAudio
import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

@testable import CallVaultTranscribe

#if canImport(Glibc)
    import Glibc
#endif

/// A data directory with one tenant and helpers to record the sample two-track call into it through
/// the real recorder (consent not required, stored as G.711 μ-law like a Twilio call).
final class TranscriptionFixture {
    static let samples = Repository.samples

    let data: TestDataDirectory
    var temp: String { data.root }
    var directory: DataDirectory { data.directory }
    var keyStore: KeyStore { data.keyStore }
    var catalog: Catalog { data.catalog }
    let tenantID: String

    init() throws {
        data = try TestDataDirectory("transcribe-test")
        tenantID = try data.addTenant("acme", policy: TenantPolicy(voiceDays: 30, transcriptDays: 60)).tenant.id
    }

    /// Another tenant (consent not required by the recorder either way), with its key; returns its id.
    func addTenant(_ name: String, policy: TenantPolicy = TenantPolicy()) throws -> String {
        try data.addTenant(name, policy: policy).tenant.id
    }

    /// 8 kHz mono samples of a file in `samples/`.
    static func audio(_ file: String) throws -> [Int16] {
        try AudioFileReader(path: samples + "/" + file).readAllMono()
    }

    /// Records `caller` and `bot` (8 kHz samples, same timeline) as one call; returns its id.
    /// With `leaveOpen`, the bot track is left in state `recording` (a call still in progress).
    @discardableResult
    func recordCall(
        caller: [Int16], bot: [Int16]? = nil, externalID: String = "CA-\(UUID().uuidString.prefix(8))",
        tenantID: String? = nil
    ) throws -> String {
        let callID = try catalog.registerCall(tenantID: tenantID ?? self.tenantID, externalID: externalID).id
        let recorder = CallRecorder(
            callID: callID, settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: .g711u),
            catalog: catalog, keyStore: keyStore, dataDirectory: directory, flushGroup: nil, logger: Logger(label: "test"))
        let ring = FrameRing(sampleRate: .hz8000)
        let frames = max(caller.count, bot?.count ?? 0) / 160
        for index in 0..<frames {
            for (track, audio) in [(RecordingTrack.caller, caller), (.bot, bot)] {
                guard let audio else { continue }
                let frame = ring.next(timestampMs: Int64(index) * 20)
                for i in 0..<160 {
                    let at = index * 160 + i
                    frame.samples[i] = at < audio.count ? audio[at] : 0
                }
                try recorder.receive(frame, track: track)
            }
        }
        try recorder.finish(atMs: Int64(frames) * 20)
        return callID
    }

    /// The sealed file of a recording.
    func path(of recording: RecordingRecord) -> String { directory.path + "/" + recording.path }

    func drain(
        workers: Int = 1, limit: Int? = nil, retry: JobRetryPolicy = JobRetryPolicy(), lease: Duration = .seconds(60),
        makeEngine: @escaping TranscriptionEngineFactory = { () throws(TranscriptionError) in try PocketSphinxEngine() },
        makeModelEngine: TranscriptionModelEngineFactory? = nil
    ) async throws -> TranscriptionSummary {
        try await TranscriptionPool.drain(
            catalog: catalog, keyStore: keyStore, dataDirectory: directory, workers: workers, limit: limit,
            configuration: { TranscriptionWorker.Configuration(workerID: "test-\($0)", lease: lease, retry: retry) },
            makeEngine: makeEngine, makeModelEngine: makeModelEngine)
    }
}
