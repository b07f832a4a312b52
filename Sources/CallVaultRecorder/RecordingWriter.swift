public import CallVaultArchive
public import CallVaultCrypto
public import CallVaultModel
public import CallVaultStore
public import Foundation

/// Writes one track of one call to its sealed recording: the catalog row, the data key, the `.cvr`
/// file, then one sealed segment per `append`, and at the end the `last` segment, the catalog's
/// `complete` state and the call's transcription job.
///
/// Set-up (`init`) allocates: the catalog row, the key, the file and the writer's buffers. The
/// per-segment path (`append`) does not: it seals in the `SealedFileWriter`'s preallocated frame,
/// makes one `write(2)`, and stores two atomic counters for the ``FlushGroup``, which syncs the file
/// and reports durable progress to the catalog off this path.
///
/// Not thread-safe: one writer per track, appended to from one thread at a time (the flush group's
/// thread only touches the writer's ``DurabilityHandle``).
public final class RecordingWriter {
    /// The engine a finished recording's transcription job names, unless told otherwise: `auto`, the
    /// worker's default (Whisper where it is installed, else pocketsphinx).
    public static let defaultTranscriptionEngine = "auto"

    /// The catalog row as created (state `recording`).
    public let recording: RecordingRecord
    /// The part file being written.
    public let filePath: String
    /// The storage codec of the payloads.
    public let codec: StorageCodec
    /// Milliseconds of audio appended so far.
    public private(set) var durationMs: Int64 = 0
    /// Segments appended so far.
    public private(set) var segmentCount = 0
    /// True once `finish` completed.
    public private(set) var isFinished = false
    /// Segments whose write the disk refused (``RecorderError/Code/storageFailed``): their audio is not in
    /// the file, which still ends at its last whole segment.
    public private(set) var lostSegmentCount = 0
    /// The gap the disk is causing now (writes failing), if any.
    public private(set) var openGap: StorageGap?
    /// A gap that ended with the last successful write, until ``takeClosedGap()``.
    private var closedGap: StorageGap?
    /// errno of the last failed segment write, 0 if none.
    public var lastWriteErrno: Int32 { sealed.lastWriteErrno }

    let handle: DurabilityHandle
    private let sealed: SealedFileWriter
    /// Where the row is completed: inline by ``finish(lastSegment:frameCount:)`` when this is the SQLite
    /// ``Catalog``, else by the caller with ``completion`` off its thread.
    private let store: any CatalogStore
    private let frameDurationMs: Int64
    private let transcriptionEngine: String
    private weak var flushGroup: FlushGroup?

    /// Opens a new recording of one track of a registered call, on the SQLite catalog inline.
    ///
    /// Order: catalog row first (so start-up recovery finds whatever follows), then the data key
    /// (bound to the recording id, expiring on the UTC day of the row's `expiresAt`, which the
    /// catalog fixed from the tenant's voice retention), then the folder and file (0700/0600), whose
    /// header and directory entry are synced before the first segment. The ingest does the same in
    /// two steps (``NewRecording/createRow(in:node:)`` off its event loop, then ``init(opening:store:keyStore:dataDirectory:frameDurationMs:maxSegmentByteCount:flushGroup:transcriptionEngine:providerRoundTrip:)``).
    /// - Parameters:
    ///   - codec: the concrete storage codec of the payloads (resolve `native` first).
    ///   - frameDurationMs: one codec frame's duration, written in the header (20 ms).
    ///   - maxSegmentByteCount: the largest payload `append` accepts; the writer preallocates it.
    ///   - flushGroup: the group that syncs this recording; the writer joins it here and leaves it in `finish`.
    ///   - providerRoundTrip: `.forbidden` on an event loop: the tenant's day key must be ready in memory,
    ///     else the recording is abandoned and `dayKeyNotReady` thrown (nothing written to the file).
    public convenience init(
        catalog: Catalog,
        keyStore: KeyStore,
        dataDirectory: DataDirectory,
        callID: String,
        track: RecordingTrack,
        codec: StorageCodec,
        sampleRate: Int,
        frameDurationMs: Int = 20,
        maxSegmentByteCount: Int = 64 * 1024,
        flushGroup: FlushGroup? = nil,
        transcriptionEngine: String = RecordingWriter.defaultTranscriptionEngine,
        providerRoundTrip: KeyStore.ProviderRoundTrip = .allowed,
        now: Date = Date()
    ) throws(RecorderError) {
        let call: CallRecord
        do { call = try catalog.call(id: callID) } catch {
            throw RecorderError(.catalogFailed, "cannot open a recording: \(error.message)")
        }
        let plan = try NewRecording(
            tenantID: call.tenantId, callID: callID, track: track, codec: codec, sampleRate: sampleRate,
            frameDurationMs: frameDurationMs, createdAt: now)
        let record: RecordingRecord
        do { record = try plan.createRow(in: catalog) } catch {
            throw RecorderError(.catalogFailed, "cannot create the recording row: \(error.message)")
        }
        do {
            try self.init(
                opening: record, store: catalog, keyStore: keyStore, dataDirectory: dataDirectory,
                frameDurationMs: frameDurationMs, maxSegmentByteCount: maxSegmentByteCount, flushGroup: flushGroup,
                transcriptionEngine: transcriptionEngine, providerRoundTrip: providerRoundTrip)
        } catch {
            Self.abandon(catalog, record.id, because: error.code.rawValue)
            throw error
        }
    }

    /// Opens the recording whose catalog row `record` already exists: the data key, the folder and the
    /// file. Local work only (the key store and the disk; with `.forbidden` never the key provider), so an
    /// event loop may do it once the row was created elsewhere.
    ///
    /// Does not abandon the row when it fails: the caller marks it `interrupted`
    /// (``abandon(_:_:because:)``) where it may wait for the catalog.
    public convenience init(
        opening record: RecordingRecord,
        store: any CatalogStore,
        keyStore: KeyStore,
        dataDirectory: DataDirectory,
        frameDurationMs: Int = 20,
        maxSegmentByteCount: Int = 64 * 1024,
        flushGroup: FlushGroup? = nil,
        transcriptionEngine: String = RecordingWriter.defaultTranscriptionEngine,
        providerRoundTrip: KeyStore.ProviderRoundTrip = .allowed
    ) throws(RecorderError) {
        guard let sealedCodec = Self.sealedCodec(record.codec) else {
            throw RecorderError(
                .invalidArgument,
                "a recording's codec must be concrete (opus, pcm16, g711u, g711a), not native"
            )
        }
        let createdAt = record.createdAt
        let day = CalendarDay(secondsSince1970: Int64(createdAt.timeIntervalSince1970.rounded(.down)))
        let expiresOn = CalendarDay(secondsSince1970: Int64(record.expiresAt.timeIntervalSince1970.rounded(.down)))
        let key: (keyID: String, key: SecretKey)
        do {
            try keyStore.ensureTenant(record.tenantId)
            key = try keyStore.newDataKey(
                tenantID: record.tenantId,
                ownerID: record.id,
                kind: .voice,
                expiresOn: expiresOn,
                providerRoundTrip: providerRoundTrip
            )
            try dataDirectory.makeRecordingDirectory(tenantID: record.tenantId, day: day)
        } catch {
            throw RecorderError(
                error.code == .dayKeyNotReady ? .dayKeyNotReady : .keyStoreFailed,
                "cannot prepare recording \(record.id): \(error.message)")
        }
        let metadata = SealedFileMetadata(
            kind: .voice,
            tenantID: record.tenantId,
            recordingID: record.id,
            keyID: key.keyID,
            codec: sealedCodec,
            sampleRate: UInt32(record.sampleRate),
            channels: 1,
            frameDurationMs: UInt16(frameDurationMs),
            createdAtMs: Int64((createdAt.timeIntervalSince1970 * 1000).rounded(.down))
        )
        try self.init(
            recording: record,
            store: store,
            dataKey: key.key,
            path: RecordingFiles.resolve(record.path, in: dataDirectory),
            metadata: metadata,
            maxSegmentByteCount: maxSegmentByteCount,
            flushGroup: flushGroup,
            transcriptionEngine: transcriptionEngine
        )
    }

    /// Creates the sealed file at `path` (never an existing one) and joins the flush group.
    init(
        recording: RecordingRecord,
        store: any CatalogStore,
        dataKey: SecretKey,
        path: String,
        metadata: SealedFileMetadata,
        maxSegmentByteCount: Int,
        flushGroup: FlushGroup?,
        transcriptionEngine: String
    ) throws(RecorderError) {
        do {
            sealed = try SealedFileWriter(
                path: path,
                dataKey: dataKey,
                metadata: metadata,
                maxSegmentByteCount: maxSegmentByteCount
            )
            // The header and the file's directory entry become durable now, not on the hot path.
            try sealed.sync()
        } catch {
            throw RecorderError(
                .ioFailed,
                "cannot create the sealed file of recording \(recording.id): \(error.message)"
            )
        }
        handle = try DurabilityHandle(recordingID: recording.id, path: path)
        self.recording = recording
        self.filePath = path
        self.codec = recording.codec
        self.store = store
        self.frameDurationMs = Int64(metadata.frameDurationMs)
        self.transcriptionEngine = transcriptionEngine
        self.flushGroup = flushGroup
        handle.noteSynced(fileBytes: Int64(sealed.byteCount), durationMs: 0)
        flushGroup?.add(self)
    }

    deinit {
        flushGroup?.remove(self)
        handle.close()
    }

    /// Seals one segment payload and appends it to the file: one `write(2)`, no heap allocation.
    ///
    /// Not durable until the flush group (or `sync()`) syncs it.
    /// - Parameters:
    ///   - segment: the plaintext payload, already in the storage codec (at most `maxSegmentByteCount`).
    ///   - frameCount: how many codec frames the payload holds, for the recording's duration.
    public func append(segment: UnsafeRawBufferPointer, frameCount: Int) throws(RecorderError) {
        try append(segment, frameCount: frameCount, last: false)
    }

    func append(_ segment: UnsafeRawBufferPointer, frameCount: Int, last: Bool) throws(RecorderError) {
        guard !isFinished else {
            throw RecorderError(.writerClosed, "recording \(recording.id) is finished")
        }
        guard frameCount >= 0 else {
            throw RecorderError(.invalidArgument, "a segment cannot hold \(frameCount) frames")
        }
        do {
            try sealed.append(segment, last: last)
        } catch {
            guard error.code == .ioFailed, !sealed.isFailed else { throw Self.mapped(error, recording.id) }
            // The disk refused it (full, failing); the file still ends at its last whole segment.
            lostSegmentCount += 1
            let lostMs = Int64(frameCount) * frameDurationMs
            if openGap == nil {
                openGap = StorageGap(
                    recordingID: recording.id, track: recording.track, errno: sealed.lastWriteErrno, afterMs: durationMs,
                    lostMs: 0, segments: 0)
            }
            openGap!.lostMs += lostMs
            openGap!.segments += 1
            throw RecorderError(
                .storageFailed, "recording \(recording.id): the disk refused a segment (\(lostMs) ms lost): \(error.message)")
        }
        durationMs += Int64(frameCount) * frameDurationMs
        segmentCount += 1
        handle.noteAppended(fileBytes: Int64(sealed.byteCount), durationMs: durationMs)
        if openGap != nil {
            closedGap = openGap
            openGap = nil
        }
    }

    /// The gap that ended with the latest successful write (once): the recording went on after it.
    public func takeClosedGap() -> StorageGap? {
        defer { closedGap = nil }
        return closedGap
    }

    /// The gap still open (once): at the end of a call whose last writes failed.
    public func takeOpenGap() -> StorageGap? {
        defer { openGap = nil }
        return openGap
    }

    /// Syncs what was appended (`fdatasync`) right now, outside the group's rhythm.
    public func sync() throws(RecorderError) {
        guard !isFinished else { return }  // `finish` synced and closed the file
        _ = try handle.syncIfDirty()
    }

    /// Ends the recording: appends `lastSegment` (or an empty segment) marked `last`, syncs and
    /// closes the file, leaves the flush group, marks the row `complete` with its duration and the
    /// file's bytes, and queues the call's transcription job (idempotent per call and engine) in the same
    /// catalog transaction. The catalog step runs inline, so only a writer on the SQLite ``Catalog``
    /// finishes this way; others call ``seal(lastSegment:frameCount:)`` and apply ``completion`` where
    /// they may wait for their database.
    /// - Returns: the job queued (or already queued for this call and engine).
    @discardableResult
    public func finish(lastSegment: UnsafeRawBufferPointer? = nil, frameCount: Int = 0) throws(RecorderError)
        -> JobRecord
    {
        try seal(lastSegment: lastSegment, frameCount: frameCount)
        guard let catalog = store as? Catalog else {
            throw RecorderError(
                .catalogFailed,
                "recording \(recording.id) is sealed; its catalog (\(store.location)) is completed asynchronously")
        }
        do {
            // One transaction: a crash leaves the row `recording` (recovery closes it and queues the
            // job), never a complete recording without its job.
            return try catalog.completeRecording(
                id: recording.id,
                durationMs: durationMs,
                bytes: Int64(sealed.byteCount),
                transcriptionEngine: transcriptionEngine
            )
        } catch {
            throw RecorderError(
                .catalogFailed,
                "recording \(recording.id) is sealed but the catalog failed: \(error.message)"
            )
        }
    }

    /// Seals the file's end: appends `lastSegment` (or an empty segment) marked `last`, syncs and closes
    /// the file, leaves the flush group. The catalog still shows the recording open until ``completion``
    /// is applied (a crash in between is closed by recovery as `complete`: the file is sealed to its end).
    public func seal(lastSegment: UnsafeRawBufferPointer? = nil, frameCount: Int = 0) throws(RecorderError) {
        flushGroup?.remove(self)
        flushGroup = nil
        try append(lastSegment ?? UnsafeRawBufferPointer(start: nil, count: 0), frameCount: frameCount, last: true)
        do {
            try sealed.close()
        } catch {
            throw Self.mapped(error, recording.id)
        }
        handle.close()
        isFinished = true
        Failpoint.recordingSealed.hit()
    }

    /// What completing this (sealed) recording writes to the catalog, to apply off the writer's thread.
    public var completion: Completion {
        Completion(
            recordingID: recording.id, durationMs: durationMs, bytes: Int64(sealed.byteCount),
            transcriptionEngine: transcriptionEngine)
    }

    /// A sealed recording's `complete` state and transcription job, as one catalog transaction.
    public struct Completion: Sendable {
        public let recordingID: String
        public let durationMs: Int64
        public let bytes: Int64
        public let transcriptionEngine: String

        /// Marks the recording complete and queues its job, in one transaction.
        @discardableResult
        public func apply(to store: any CatalogStore, at: Date = Date()) async throws(RecorderError) -> JobRecord {
            do {
                return try await store.completeRecording(
                    id: recordingID, durationMs: durationMs, bytes: bytes, transcriptionEngine: transcriptionEngine,
                    at: at)
            } catch {
                throw RecorderError(
                    .catalogFailed, "recording \(recordingID) is sealed but the catalog failed: \(error.message)")
            }
        }
    }

    /// A new recording that could not be opened leaves no row in `recording` behind: it is marked
    /// `interrupted` with nothing in it, audited with the reason (best effort; recovery would find it otherwise).
    static func abandon(_ catalog: Catalog, _ recordingID: String, because reason: String) {
        _ = try? catalog.markRecordingInterrupted(
            id: recordingID,
            durationMs: 0,
            bytes: 0,
            actor: "recorder",
            details: ["outcome": "openFailed", "detail": reason]
        )
    }

    /// The same, on any catalog, where the caller may wait for it (best effort).
    public static func abandon(_ store: any CatalogStore, _ recordingID: String, because reason: String) async {
        _ = try? await store.markRecordingInterrupted(
            id: recordingID, durationMs: 0, bytes: 0, actor: "recorder",
            details: ["outcome": "openFailed", "detail": reason], at: Date())
    }

    /// The sealed-file codec of a concrete storage codec; nil for `native`.
    public static func sealedCodec(_ codec: StorageCodec) -> SealedFileMetadata.Codec? {
        switch codec {
        case .native: nil
        case .opus: .opus
        case .pcm16: .pcm16
        case .g711u: .g711u
        case .g711a: .g711a
        }
    }

    static func mapped(_ error: SealedFileError, _ recordingID: String) -> RecorderError {
        let code: RecorderError.Code =
            switch error.code {
            case .writerClosed: .writerClosed
            case .segmentTooLarge, .tooManySegments: .invalidArgument
            case .ioFailed, .fileExists: .ioFailed
            default: .sealedFileFailed
            }
        return RecorderError(code, "recording \(recordingID): \(error.message)")
    }
}
