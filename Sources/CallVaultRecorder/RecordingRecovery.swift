public import CallVaultArchive
import CallVaultCrypto
import Foundation
public import CallVaultModel
public import CallVaultStore
public import Logging

/// Recovery of recordings whose writer died: a recording the catalog still shows as `recording` that no
/// live writer holds was cut by a crash. Without ``ServeNodes`` (a tool, one node alone) that is every
/// open recording, so run it before any new ``RecordingWriter`` opens; with them (`serve`), only those
/// of nodes that are gone, at a node's start and then periodically, so nodes sharing a catalog recover
/// each other's. Each is read back with its data key —
/// all its parts, a torn last write ignored, every segment authenticated — and then marked
/// `interrupted` with the readable duration and bytes, audited (`recording.recovered`, in the same
/// transaction), and queued for transcription when it holds any audio.
public struct RecordingRecovery: Sendable {
    public let catalog: any CatalogStore
    public let keyStore: KeyStore
    public let dataDirectory: DataDirectory
    public let payloadFormat: SegmentPayloadFormat
    public let transcriptionEngine: String
    let logger: Logger

    public init(
        catalog: any CatalogStore,
        keyStore: KeyStore,
        dataDirectory: DataDirectory,
        payloadFormat: SegmentPayloadFormat = .rawCodec,
        transcriptionEngine: String = RecordingWriter.defaultTranscriptionEngine,
        logger: Logger = Logger(label: "callvault.recovery")
    ) {
        self.catalog = catalog
        self.keyStore = keyStore
        self.dataDirectory = dataDirectory
        self.payloadFormat = payloadFormat
        self.transcriptionEngine = transcriptionEngine
        self.logger = logger
    }

    /// Recovers every recording left open (with `nodes`: every one no live node holds), then repairs what
    /// an older build may have left (a finished recording whose call has no transcription job); returns
    /// the recordings it closed, oldest first.
    public func run(sparing nodes: ServeNodes? = nil) async throws(RecorderError) -> [RecoveredRecording] {
        let results = try await recoverAbandoned(sparing: nodes)
        do {
            let repaired = try await catalog.queueMissingTranscriptionJobs(engine: transcriptionEngine, at: Date())
            if !repaired.isEmpty {
                logger.notice("queued the transcription jobs finished calls were missing", metadata: ["calls": "\(repaired.count)"])
            }
        } catch {
            throw RecorderError(.catalogFailed, "cannot queue the jobs finished calls are missing: \(error.message)")
        }
        return results
    }

    /// Recovers the open recordings no live node holds (all of them without `nodes`): a recording of no
    /// node (a tool's, an older build's) or of a node that is gone (``ServeNodes/isAlive(_:)``). One that
    /// another node recovered meanwhile is skipped. Returns the recordings it closed, oldest first.
    public func recoverAbandoned(sparing nodes: ServeNodes?) async throws(RecorderError) -> [RecoveredRecording] {
        let open: [RecordingRecord]
        do { open = try await catalog.recordingsLeftOpen() } catch {
            throw RecorderError(.catalogFailed, "cannot list open recordings: \(error.message)")
        }
        var alive: [String: Bool] = [:]
        var results: [RecoveredRecording] = []
        for recording in open {
            if let nodes, let owner = recording.node {
                if alive[owner] == nil {
                    do { alive[owner] = try await nodes.isAlive(owner) } catch {
                        throw RecorderError(.catalogFailed, "cannot tell whether node \(owner) is alive: \(error.message)")
                    }
                }
                if alive[owner] == true { continue }
                logger.notice(
                    "recovering a recording of a node that is gone",
                    metadata: ["recording": "\(recording.id)", "node": "\(owner)"])
            }
            do {
                results.append(try await recover(recording))
            } catch {
                // Another node recovering the same dead node's recordings may have closed it first.
                if nodes != nil, let now = try? await catalog.recording(id: recording.id, tenantID: nil),
                    now.state != .recording
                {
                    continue
                }
                throw error
            }
        }
        return results
    }

    /// Checks one recording's files, then in one catalog transaction marks it `interrupted` (or
    /// `complete` when its file was sealed to its `last` segment: the crash came between sealing and
    /// the catalog update), audits it and queues its call's job when it holds any audio.
    public func recover(_ recording: RecordingRecord) async throws(RecorderError) -> RecoveredRecording {
        let scan = inspect(recording)
        var details = [
            "outcome": scan.outcome.rawValue, "parts": String(scan.parts), "segments": String(scan.segments),
        ]
        if let ending = scan.ending { details["ending"] = ending }
        if let detail = scan.detail { details["detail"] = detail }
        let sealedToTheEnd = scan.outcome == .readable && scan.ending == SealedFileEnding.lastSegment.rawValue
        Failpoint.recoveryScanned.hit()
        let jobID: String?
        do {
            jobID = try await catalog.closeRecoveredRecording(
                id: recording.id,
                state: sealedToTheEnd ? .complete : .interrupted,
                durationMs: scan.durationMs,
                bytes: scan.bytes,
                actor: "recovery",
                details: details,
                transcriptionEngine: scan.segments > 0 || (scan.outcome == .inAnotherSpool && scan.durationMs > 0)
                    ? transcriptionEngine : nil,
                at: Date()
            ).job?.id
        } catch {
            throw RecorderError(.catalogFailed, "cannot close recording \(recording.id) after the crash: \(error.message)")
        }
        logger.notice(
            "recording recovered",
            metadata: [
                "recording": "\(recording.id)", "outcome": "\(scan.outcome.rawValue)", "segments": "\(scan.segments)",
                "durationMs": "\(scan.durationMs)",
            ]
        )
        return RecoveredRecording(
            recordingID: recording.id,
            callID: recording.callId,
            tenantID: recording.tenantId,
            outcome: scan.outcome,
            state: sealedToTheEnd ? .complete : .interrupted,
            partCount: scan.parts,
            segmentCount: scan.segments,
            durationMs: scan.durationMs,
            bytes: scan.bytes,
            ending: scan.ending,
            detail: scan.detail,
            jobID: jobID
        )
    }

    private struct Scan {
        var outcome: RecoveredRecording.Outcome
        var parts = 0
        var segments = 0
        var durationMs: Int64 = 0
        var bytes: Int64 = 0
        var ending: String?
        var detail: String?
    }

    /// Reads the recording back as far as it verifies. Reads only.
    private func inspect(_ recording: RecordingRecord) -> Scan {
        let parts = RecordingFiles.existingParts(firstPart: RecordingFiles.resolve(recording.path, in: dataDirectory))
        var scan = Scan(outcome: .readable, parts: parts.count)
        scan.bytes = parts.reduce(0) { $0 + RecordingFiles.size(of: $1) }
        guard !parts.isEmpty else {
            if recording.storage == .spooled || recording.storage == .uploading {
                // Written to a spool on another machine (the node that died): what the flush group made
                // durable there is what the catalog says; the file follows when that node comes back.
                scan.outcome = .inAnotherSpool
                scan.durationMs = recording.durationMs
                scan.bytes = recording.bytes
                scan.detail = "the file is in the spool of node \(recording.node ?? "?"), not uploaded yet"
                return scan
            }
            scan.outcome = .noFile
            return scan
        }
        let key: SecretKey
        do { key = try keyStore.dataKey(ownerID: recording.id, tenantID: recording.tenantId) } catch {
            scan.outcome = .keyUnavailable
            scan.detail = error.code.rawValue
            return scan
        }
        var samples = 0
        do throws(SealedFileError) {
            let reader = try SealedRecordingReader(
                partPaths: parts,
                dataKey: key,
                expectedTenantID: recording.tenantId,
                expectedRecordingID: recording.id,
                allowIncomplete: true
            )
            while let segment = try reader.next() {
                scan.segments += 1
                do throws(RecorderError) {
                    let audio = try payloadFormat.audioBytes(segment.plaintext)
                    samples += try SegmentPayloadFormat.sampleCount(
                        in: audio, codec: recording.codec, sampleRate: recording.sampleRate)
                } catch {
                    scan.detail = error.message
                }
            }
            scan.ending = reader.ending?.rawValue
        } catch {
            // A header cut short by the crash is still a crash, not damage.
            scan.outcome = error.code == .truncatedHeader ? .readable : .damaged
            scan.detail = error.code.rawValue
        }
        scan.durationMs = recording.sampleRate > 0 ? Int64(samples) * 1000 / Int64(recording.sampleRate) : 0
        return scan
    }
}
