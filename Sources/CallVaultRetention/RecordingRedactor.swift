public import CallVaultArchive
import CallVaultAudio
import CallVaultCrypto
public import CallVaultModel
import CallVaultRecorder
public import CallVaultStore
import Foundation
public import Logging
import Metrics

/// Silences sensitive spans in the recorded voice of a call: each track's recording is re-sealed with the
/// spans silent under a data key of its own, the copy is read back and checked against the original, and
/// only then is the original crypto-shredded (its data key destroyed, its files deleted). The copy keeps
/// the original's timeline, length, codec and expiry, so nothing downstream sees a difference but silence.
///
/// The order is the safety argument, as in the ``Shredder``: until the copy checked out, the original is
/// untouched (a crash leaves a pending copy that the next run destroys and redoes); once it did, the
/// original's key goes first. A copy that fails its check is destroyed and the original restricted
/// (GDPR Art. 18: kept, played or processed only with an audited override) and reported, so an operator
/// looks rather than trusting a redaction that could not be shown to hold.
///
/// A recording under legal hold is left as it is (the hold keeps evidence unchanged) and reported; a
/// restricted one too (redacting is processing).
public struct RecordingRedactor: Sendable {
    public let catalog: any CatalogStore
    public let keyStore: KeyStore
    public let files: SealedFiles
    public let logger: Logger
    /// Who the audit entries name (`worker:…`, `cli`).
    public let actor: String
    public var paddingMs = AudioRedactionPlan.defaultPaddingMs

    public init(catalog: any CatalogStore, keyStore: KeyStore, files: SealedFiles, logger: Logger, actor: String) {
        self.catalog = catalog
        self.keyStore = keyStore
        self.files = files
        self.logger = logger
        self.actor = actor
    }

    /// What one call's redaction did, by recording: ids, counts and reasons only.
    public struct Report: Sendable, Equatable, Codable {
        public struct Redacted: Sendable, Equatable, Codable {
            public var original: String
            public var copy: String
            public var track: RecordingTrack
            public var spans: Int
            public var silencedMs: Int64
        }
        public struct Left: Sendable, Equatable, Codable {
            public var recording: String
            public var reason: String
        }
        public var callID: String
        public var redacted: [Redacted] = []
        /// Already redacted over these spans: nothing to do.
        public var unchanged: [String] = []
        /// Left as they are (held, restricted): not an error, but not redacted.
        public var skipped: [Left] = []
        /// The copy failed its check: destroyed, the original restricted.
        public var failed: [Left] = []
    }

    /// Redacts every recording of `callID` over `requests` (timeline milliseconds, before padding).
    /// - Parameter detectorVersion: the detector that found the spans, kept with the copy.
    public func redact(callID: String, requests: [AudioRedactionPlan.Request], detectorVersion: String)
        async throws(RetentionError) -> Report
    {
        var report = Report(callID: callID)
        let recordings: [RecordingRecord]
        do { recordings = try await catalog.recordings(inCalls: [callID]) } catch {
            throw RetentionError(.catalogFailed, "cannot list the recordings of call \(callID): \(error.message)")
        }
        if let open = recordings.first(where: { $0.state == .recording && $0.redactedFrom == nil }) {
            throw RetentionError(
                .invalidState, "call \(callID) is still being recorded (recording \(open.id)); redact it once it ended")
        }
        // A copy a crash left pending: finished if its original is already gone, else destroyed and redone.
        var shreddedIDs = Set(recordings.filter { $0.state == .shredded }.map(\.id))
        for copy in recordings where copy.state != .shredded && copy.redaction?.verification == .pending {
            guard let originalID = copy.redactedFrom else { continue }
            if shreddedIDs.contains(originalID) {
                try await record(copy: copy, passed: true, details: ["recovered": "true"])
            } else {
                try await shred(copy, reason: "redaction-abandoned")
                shreddedIDs.insert(copy.id)
            }
        }
        guard !requests.isEmpty else { return report }
        let current = recordings.filter {
            !shreddedIDs.contains($0.id) && $0.state != .shredded
                && ($0.redaction == nil || $0.redaction?.verification == .passed)
        }
        for recording in current.sorted(by: { $0.track.rawValue > $1.track.rawValue }) {
            if recording.hold {
                report.skipped.append(.init(recording: recording.id, reason: "under legal hold"))
                continue
            }
            if recording.restricted {
                report.skipped.append(.init(recording: recording.id, reason: "restricted (GDPR Art. 18)"))
                continue
            }
            let earlier = recording.redaction?.spans ?? []
            let plan = AudioRedactionPlan(
                requests.compactMap { $0.on(recording.track.rawValue) }, paddingMs: paddingMs, keeping: earlier)
            if AudioRedactionPlan([], paddingMs: paddingMs, keeping: earlier).covers(plan.spans) {
                report.unchanged.append(recording.id)
                continue
            }
            let outcome = try await redact(recording, plan: plan, detectorVersion: detectorVersion)
            switch outcome {
            case .redacted(let copy, let silencedMs):
                report.redacted.append(
                    .init(
                        original: recording.id, copy: copy.id, track: recording.track, spans: plan.spans.count,
                        silencedMs: silencedMs))
            case .failed(let reason):
                report.failed.append(.init(recording: recording.id, reason: reason))
            }
        }
        return report
    }

    enum Outcome {
        case redacted(RecordingRecord, silencedMs: Int64)
        case failed(String)
    }

    /// Writes, checks and swaps in the redacted copy of one recording.
    private func redact(_ original: RecordingRecord, plan: AudioRedactionPlan, detectorVersion: String)
        async throws(RetentionError) -> Outcome
    {
        let key = try await originalKey(original)
        let originalParts = try await parts(of: original)
        let id = UUID().uuidString.lowercased()
        let day = CalendarDay(secondsSince1970: Int64(original.createdAt.timeIntervalSince1970.rounded(.down)))
        let redaction = RecordingRedaction(detectorVersion: detectorVersion, paddingMs: plan.paddingMs, spans: plan.spans)
        let copy: RecordingRecord
        do {
            copy = try await catalog.createRedactedRecording(
                originalID: original.id, id: id,
                path: RecordingFiles.relativePath(tenantID: original.tenantId, day: day, recordingID: id),
                storage: files.newFileStorage, redaction: redaction)
        } catch {
            throw RetentionError(.catalogFailed, "cannot create the redacted copy of \(original.id): \(error.message)")
        }
        // Write the copy: every segment of the original, silenced where the plan says, in order.
        let (catalog, keyStore, dataDirectory) = (self.catalog, self.keyStore, files.dataDirectory)
        let sources = originalParts.map(files.source)
        let written: (bytes: Int64, silencedMs: Int64)
        do {
            written = try await SealedFiles.reading(originalParts) { () throws(RecorderError) -> (Int64, Int64) in
                let reader = try Self.reader(sources, key: key, recording: original)
                let writer = try RecordingWriter(
                    opening: copy, store: catalog, keyStore: keyStore, dataDirectory: dataDirectory,
                    maxSegmentByteCount: 1 << 20)
                let silencer = try SegmentSilencer(codec: original.codec, sampleRate: original.sampleRate, plan: plan)
                var ended = false
                while let segment = try Self.next(reader, of: original) {
                    let (bytes, frames) = try silencer.silence(segment.plaintext)
                    if segment.isLast {
                        try bytes.withUnsafeBufferPointer { b throws(RecorderError) in
                            try writer.seal(lastSegment: UnsafeRawBufferPointer(b), frameCount: frames)
                        }
                        ended = true
                    } else {
                        try bytes.withUnsafeBufferPointer { b throws(RecorderError) in
                            try writer.append(segment: UnsafeRawBufferPointer(b), frameCount: frames)
                        }
                    }
                }
                if !ended { try writer.seal() }
                return (writer.completion.bytes, silencer.silencedSamples * 1000 / Int64(max(1, original.sampleRate)))
            }
        } catch {
            try await shred(copy, reason: "redaction-abandoned")
            throw RetentionError(.invalidState, "cannot write the redacted copy of \(original.id): \(error.message)")
        }
        do {
            try await catalog.finishRecording(
                id: copy.id, state: original.state == .interrupted ? .interrupted : .complete,
                durationMs: original.durationMs, bytes: written.bytes)
        } catch {
            throw RetentionError(.catalogFailed, "cannot close the redacted copy of \(original.id): \(error.message)")
        }
        await upload(copy)
        // Read the copy back as stored and hold it against the original.
        let problem = try await check(copy: copy, original: original, originalParts: originalParts, key: key, plan: plan)
        let details: [String: String] = [
            "track": original.track.rawValue, "spans": String(plan.spans.count),
            "kinds": Set(plan.spans.flatMap(\.kinds)).sorted().joined(separator: ","),
            "silencedMs": String(written.silencedMs), "paddingMs": String(plan.paddingMs),
            "detectorVersion": detectorVersion,
        ]
        if let problem {
            logger.error(
                "a redacted copy failed its check: the original is restricted, the copy destroyed",
                metadata: ["recording": "\(original.id)", "reason": "\(problem)"])
            var failed = details
            failed["reason"] = problem
            try await record(copy: copy, passed: false, details: failed)
            try await shred(copy, reason: "redaction-failed")
            Counter(label: "callvault_audio_redactions_total", dimensions: [("outcome", "failed")]).increment()
            return .failed(problem)
        }
        try await shred(original, reason: "redacted")
        try await record(copy: copy, passed: true, details: details)
        Counter(label: "callvault_audio_redactions_total", dimensions: [("outcome", "redacted")]).increment()
        Counter(label: "callvault_audio_redacted_ms_total").increment(by: Int(written.silencedMs))
        logger.info(
            "recording redacted", metadata: ["recording": "\(original.id)", "copy": "\(copy.id)", "spans": "\(plan.spans.count)"])
        return .redacted(copy, silencedMs: written.silencedMs)
    }

    /// Why the stored copy does not match the plan and its original; nil when it does.
    private func check(
        copy: RecordingRecord, original: RecordingRecord, originalParts: [SealedFiles.Part], key: SecretKey,
        plan: AudioRedactionPlan
    ) async throws(RetentionError) -> String? {
        let copyKey: SecretKey
        do { copyKey = try keyStore.dataKey(ownerID: copy.id, tenantID: copy.tenantId) } catch {
            return "the copy's data key cannot be read: \(error.message)"
        }
        let copyRecord: RecordingRecord
        do { copyRecord = try await catalog.recording(id: copy.id, tenantID: copy.tenantId) } catch {
            throw RetentionError(.catalogFailed, "cannot read the redacted copy \(copy.id): \(error.message)")
        }
        let copyParts = try await parts(of: copyRecord)
        let (originalSources, copySources) = (originalParts.map(files.source), copyParts.map(files.source))
        let check = RedactedCopyCheck(codec: original.codec, sampleRate: original.sampleRate, plan: plan)
        do {
            return try await SealedFiles.reading(originalParts + copyParts) { () throws(RecorderError) -> String? in
                try check.check(
                    original: Self.reader(originalSources, key: key, recording: original), originalRecord: original,
                    copy: Self.reader(copySources, key: copyKey, recording: copyRecord), copyRecord: copyRecord)
            }
        } catch {
            return "the copy could not be checked: \(error.message)"
        }
    }

    /// The next verified segment, a reading failure named as the recording's.
    static func next(_ reader: SealedRecordingReader, of recording: RecordingRecord) throws(RecorderError) -> SealedSegment? {
        do { return try reader.next() } catch {
            throw RecorderError(.sealedFileFailed, "recording \(recording.id) does not verify: \(error.message)")
        }
    }

    static func reader(_ sources: [SealedPartSource], key: SecretKey, recording: RecordingRecord)
        throws(RecorderError) -> SealedRecordingReader
    {
        do {
            return try SealedRecordingReader(parts: sources, key: key, recording: recording)
        } catch {
            throw RecorderError(.sealedFileFailed, "recording \(recording.id) does not open: \(error.message)")
        }
    }

    /// The original's data key, after its decryption was audited (purpose `redaction`).
    private func originalKey(_ original: RecordingRecord) async throws(RetentionError) -> SecretKey {
        do {
            _ = try await catalog.auditRecordingDecryption(
                recordingID: original.id, tenantID: original.tenantId, actor: actor, purpose: "redaction", details: [:],
                restrictionOverride: nil, at: Date())
        } catch {
            throw RetentionError(.catalogFailed, "the decryption of \(original.id) could not be audited, so it was not done: \(error.message)")
        }
        do { return try keyStore.dataKey(ownerID: original.id, tenantID: original.tenantId) } catch {
            throw RetentionError(.keyStoreFailed, "recording \(original.id): \(error.message)")
        }
    }

    private func parts(of recording: RecordingRecord) async throws(RetentionError) -> [SealedFiles.Part] {
        let parts: [SealedFiles.Part]
        do { parts = try await files.parts(path: recording.path, storage: recording.storage) } catch {
            throw RetentionError(.invalidState, "recording \(recording.id): \(error.message)")
        }
        guard !parts.isEmpty else { throw RetentionError(.invalidState, "recording \(recording.id) has no file") }
        return parts
    }

    /// Uploads the copy now when files live in an object store (a failure leaves it spooled for the
    /// reconciler, as a transcript's).
    private func upload(_ copy: RecordingRecord) async {
        guard let uploader = SealedFileUploader(catalog: catalog, files: files, logger: logger) else { return }
        let spooled = SpooledFile(kind: .recording, id: copy.id, tenantID: copy.tenantId, path: copy.path, storage: .spooled)
        _ = try? await uploader.upload(spooled)
    }

    private func record(copy: RecordingRecord, passed: Bool, details: [String: String]) async throws(RetentionError) {
        do {
            try await catalog.recordRedactionVerification(
                copyID: copy.id, passed: passed, actor: actor, details: details, at: Date())
        } catch {
            throw RetentionError(.catalogFailed, "cannot record the check of redacted copy \(copy.id): \(error.message)")
        }
    }

    /// Destroys one recording the way the sweeper does (key, files, row), with `reason` in its audit entry.
    private func shred(_ recording: RecordingRecord, reason: String) async throws(RetentionError) {
        let shredder = Shredder(
            catalog: catalog, keyStore: keyStore, dataDirectory: files.dataDirectory, objects: files.objects,
            logger: logger, actor: actor, reason: .erased, auditReason: reason)
        let outcome = try await shredder.shred([SealedItem(recording)][...], at: Date())
        if let failure = outcome.failures.first {
            throw RetentionError(.fileDeletionFailed, "recording \(recording.id) was not shredded: \(failure.reason)")
        }
    }
}
