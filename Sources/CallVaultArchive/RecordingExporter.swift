import CallVaultAudio
import CallVaultCrypto
public import CallVaultObjects
public import CallVaultModel
public import CallVaultStore
import Foundation

/// Unseals a recording in memory (all its parts), audits the decryption, and decodes its audio to
/// PCM16 for export. Nothing is written to disk here; the caller writes the file it was asked for.
///
/// This is the one door through which a recording's audio is decrypted for anyone (CLI export,
/// subject export, transcription), so the GDPR Art. 18 restriction is enforced here: a restricted
/// recording is refused (``RecorderError/Code/restricted``) unless a ``RestrictionOverride`` is given.
/// (``levels(recordingID:tenantID:bucketMs:bucketCount:)`` decrypts too but hands out only levels per
/// bucket, so it writes no audit entry; it refuses restricted recordings outright.)
/// The audit entries (`recording.restriction_overridden` when overriding, then `recording.decrypted`)
/// are appended in one transaction with that check, before any key is unwrapped: if they cannot be
/// written, nothing is decrypted. A `complete` recording must authenticate to its `last` segment;
/// an `interrupted` (or still `recording`) one is read up to its last verified segment.
///
/// It takes the catalog as ``CatalogStore`` (the embedded SQLite file or a shared database), so the same
/// door guards every backend; the calls that reach the catalog are therefore async.
public struct RecordingExporter: Sendable {
    public let catalog: any CatalogStore
    public let keyStore: KeyStore
    public let dataDirectory: DataDirectory
    public let payloadFormat: SegmentPayloadFormat
    /// The object store a directory's files are uploaded to (nil: all in the directory).
    public let objects: (any ObjectStore)?

    public init(
        catalog: any CatalogStore,
        keyStore: KeyStore,
        dataDirectory: DataDirectory,
        payloadFormat: SegmentPayloadFormat = .rawCodec,
        objects: (any ObjectStore)? = nil
    ) {
        self.catalog = catalog
        self.keyStore = keyStore
        self.dataDirectory = dataDirectory
        self.payloadFormat = payloadFormat
        self.objects = objects
    }

    public init(catalog: any CatalogStore, keyStore: KeyStore, files: SealedFiles, payloadFormat: SegmentPayloadFormat = .rawCodec) {
        self.init(
            catalog: catalog, keyStore: keyStore, dataDirectory: files.dataDirectory, payloadFormat: payloadFormat,
            objects: files.objects)
    }

    /// Decrypts and decodes one recording.
    /// - Parameters:
    ///   - tenantID: when given, a recording of another tenant is reported as not found.
    ///   - actor: who asked (for the audit log): `cli`, a tenant token's name, ...
    ///   - purpose: why (`export`, `transcription`, ...), kept in the audit entry.
    ///   - restrictionOverride: decrypt the recording even if it is restricted, for this reason
    ///     (audited); without it a restricted recording is refused.
    ///   - auditDetails: more details for the audit entries (ids only, such as a subject export's id).
    /// - Parameter onTimeline: place each segment at its first frame's time on the call's timeline
    ///   (payloads written by the ``Segmenter``), so audio withheld between segments becomes silence
    ///   and two tracks of a call line up sample for sample; otherwise segments are concatenated.
    public func export(
        recordingID: String, tenantID: String? = nil, actor: String, purpose: String = "export",
        restrictionOverride: RestrictionOverride? = nil, auditDetails: [String: String] = [:], onTimeline: Bool = false
    ) async throws(RecorderError) -> ExportedRecording {
        let (recording, files, parts, audit, key) = try await unlock(
            recordingID: recordingID, tenantID: tenantID, actor: actor, purpose: purpose,
            restrictionOverride: restrictionOverride, auditDetails: auditDetails)
        let sources = parts.map(files.source)
        let decoded = try await SealedFiles.reading(parts) { () throws(RecorderError) -> Decoded in
            try decode(sources, key: key, recording: recording, onTimeline: onTimeline)
        }
        let (samples, segments, ending) = (decoded.samples, decoded.segments, decoded.ending)
        return ExportedRecording(
            recording: recording,
            sampleRate: recording.sampleRate,
            samples: samples,
            segmentCount: segments,
            partCount: parts.count,
            isComplete: ending == .lastSegment,
            auditSeq: audit.decrypted.seq,
            restrictionOverridden: !audit.restrictionOverrides.isEmpty
        )
    }

    /// What ``unlock(recordingID:tenantID:actor:purpose:restrictionOverride:auditDetails:)`` opens.
    typealias Unlocked = (
        recording: RecordingRecord, files: SealedFiles, parts: [SealedFiles.Part], audit: DecryptionAudit, key: SecretKey
    )

    /// The door's checks, in order: the catalog row (of this tenant, not shredded, not restricted without
    /// an override, a concrete codec), its part files, the audit entries (in one transaction with the
    /// restriction check), and only then the data key.
    func unlock(
        recordingID: String, tenantID: String?, actor: String, purpose: String,
        restrictionOverride: RestrictionOverride?, auditDetails: [String: String]
    ) async throws(RecorderError) -> Unlocked {
        let recording: RecordingRecord
        do { recording = try await catalog.recording(id: recordingID, tenantID: tenantID) } catch {
            throw RecorderError(.catalogFailed, error.message)
        }
        guard recording.state != .shredded else {
            throw RecorderError(.shredded, "recording \(recordingID) was shredded; its audio cannot be read by anyone")
        }
        // Refused early for a clear message; the audit transaction below checks again, authoritatively.
        if recording.restricted && restrictionOverride == nil {
            throw Self.restrictedError(recordingID: recordingID)
        }
        guard recording.codec != .native else {
            throw RecorderError(.unsupportedCodec, "recording \(recordingID) names no concrete codec")
        }
        let parts = try await decodableParts(of: recording)
        let files = SealedFiles(dataDirectory: dataDirectory, objects: objects)
        let audit: DecryptionAudit
        do {
            var details = auditDetails
            details["parts"] = String(parts.count)
            audit = try await catalog.auditRecordingDecryption(
                recordingID: recording.id, tenantID: tenantID, actor: actor, purpose: purpose, details: details,
                restrictionOverride: restrictionOverride, at: Date())
        } catch {
            switch error.code {
            case .restricted: throw Self.restrictedError(recordingID: recordingID)
            case .invalidArgument: throw RecorderError(.invalidArgument, "recording \(recordingID): \(error.message)")
            default:
                throw RecorderError(
                    .auditFailed, "the decryption could not be audited, so it was not done: \(error.message)")
            }
        }
        let key: SecretKey
        do { key = try keyStore.dataKey(ownerID: recording.id, tenantID: recording.tenantId) } catch {
            throw RecorderError(
                error.code == .dataKeyShredded ? .shredded : .keyStoreFailed,
                "recording \(recordingID): \(error.message)"
            )
        }
        return (recording, files, parts, audit, key)
    }

    /// What reading a recording's parts gave.
    struct Decoded: Sendable {
        var samples: [Int16] = []
        var segments = 0
        var ending: SealedFileEnding?
    }

    /// Reads and decodes every verified segment of `parts` (synchronous: it may block on ranged GETs, so
    /// the caller runs it through ``SealedFiles/reading(_:_:)``).
    func decode(_ parts: [SealedPartSource], key: SecretKey, recording: RecordingRecord, onTimeline: Bool)
        throws(RecorderError) -> Decoded
    {
        var opus: OpusDecoder?
        if recording.codec == .opus, let rate = SampleRate(rawValue: recording.sampleRate) {
            do { opus = try OpusDecoder(sampleRate: rate) } catch {
                throw RecorderError(.unsupportedCodec, "no Opus decoder: \(error.message)")
            }
        }
        var decoded = Decoded()
        var decodeError: RecorderError?
        do throws(SealedFileError) {
            let reader = try SealedRecordingReader(parts: parts, key: key, recording: recording)
            while let segment = try reader.next() {
                decoded.segments += 1
                do throws(RecorderError) {
                    if onTimeline && !segment.plaintext.isEmpty {
                        let payload = try SegmentPayload(parsing: segment.plaintext)
                        let start = Int(payload.firstFrameMs) * recording.sampleRate / 1000
                        if decoded.samples.count < start {
                            decoded.samples.append(contentsOf: repeatElement(0, count: start - decoded.samples.count))
                        }
                    }
                    if let opus {
                        try Self.decodeOpus(payloadFormat.audioBytes(segment.plaintext), with: opus, into: &decoded.samples)
                    } else {
                        try Self.decode(payloadFormat.audioBytes(segment.plaintext), codec: recording.codec, into: &decoded.samples)
                    }
                } catch {
                    decodeError = error
                    break
                }
            }
            decoded.ending = reader.ending
        } catch {
            throw RecorderError(.sealedFileFailed, "recording \(recording.id) does not verify: \(error.message)")
        }
        if let decodeError { throw decodeError }
        return decoded
    }

    /// The part files of a recording whose codec can be decoded (an Opus rate it knows), local or in
    /// the bucket: what export, playback's index and the timeline's levels all read.
    func decodableParts(of recording: RecordingRecord) async throws(RecorderError) -> [SealedFiles.Part] {
        if recording.codec == .opus, SampleRate(rawValue: recording.sampleRate) == nil {
            throw RecorderError(.unsupportedCodec, "an Opus recording at \(recording.sampleRate) Hz cannot be decoded")
        }
        let files = SealedFiles(dataDirectory: dataDirectory, objects: objects)
        let parts: [SealedFiles.Part]
        do { parts = try await files.parts(path: recording.path, storage: recording.storage) } catch {
            throw RecorderError(.ioFailed, "recording \(recording.id): \(error.message)")
        }
        guard !parts.isEmpty else {
            throw RecorderError(.ioFailed, "recording \(recording.id) has no file at \(recording.path)")
        }
        return parts
    }

    /// The refusal of a restricted recording, saying how to override or lift it (for callers that
    /// check before exporting, to refuse with the same words).
    public static func restrictedError(recordingID: String) -> RecorderError {
        RecorderError(
            .restricted,
            "recording \(recordingID) is restricted (GDPR Art. 18): kept, but not decrypted without an override; "
                + "give a reason to override it (audited; `--override-reason` on the CLI) or lift the restriction "
                + "(`callvault recordings restrict \(recordingID) --lift --reason TEXT`)")
    }

    /// Appends the PCM16 samples of a payload's Opus packets (each: u16 big-endian length, packet).
    static func decodeOpus(_ audio: UnsafeRawBufferPointer, with decoder: OpusDecoder, into samples: inout [Int16])
        throws(RecorderError)
    {
        let frame = decoder.sampleRate.samplesPerFrame
        var offset = 0
        while offset < audio.count {
            guard offset + 2 <= audio.count else {
                throw RecorderError(.sealedFileFailed, "an Opus segment ends inside a packet length")
            }
            let length = Int(audio[offset]) << 8 | Int(audio[offset + 1])
            guard length > 0, offset + 2 + length <= audio.count else {
                throw RecorderError(.sealedFileFailed, "an Opus packet length (\(length)) runs past its segment")
            }
            let packet = UnsafeRawBufferPointer(rebasing: audio[(offset + 2)..<(offset + 2 + length)])
            let start = samples.count
            samples.append(contentsOf: [Int16](repeating: 0, count: frame))
            do throws(AudioError) {
                try samples.withUnsafeMutableBufferPointer { all throws(AudioError) in
                    try decoder.decode(packet, into: UnsafeMutableBufferPointer(rebasing: all[start..<(start + frame)]))
                }
            } catch {
                throw RecorderError(.sealedFileFailed, "an Opus packet does not decode: \(error.message)")
            }
            offset += 2 + length
        }
    }

    /// Appends the PCM16 samples of one payload's codec bytes.
    static func decode(_ audio: UnsafeRawBufferPointer, codec: StorageCodec, into samples: inout [Int16])
        throws(RecorderError)
    {
        let count = SegmentPayloadFormat.sampleCount(byteCount: audio.count, codec: codec) ?? 0
        guard count > 0 else { return }
        let start = samples.count
        samples.append(contentsOf: [Int16](repeating: 0, count: count))
        try samples.withUnsafeMutableBufferPointer { all throws(RecorderError) in
            try decode(audio, codec: codec, into: UnsafeMutableBufferPointer(rebasing: all[start..<(start + count)]))
        }
    }

    /// Decodes one payload's codec bytes (μ-law, A-law or PCM16 little-endian, not Opus) into `target`, which
    /// holds exactly their sample count (``SegmentPayloadFormat/sampleCount(byteCount:codec:)``).
    static func decode(_ audio: UnsafeRawBufferPointer, codec: StorageCodec, into target: UnsafeMutableBufferPointer<Int16>)
        throws(RecorderError)
    {
        do throws(AudioError) {
            switch codec {
            case .g711u: try G711.decodeMuLaw(audio, into: target)
            case .g711a: try G711.decodeALaw(audio, into: target)
            default:
                for i in 0..<target.count {
                    target[i] = Int16(littleEndian: audio.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))
                }
            }
        } catch {
            throw RecorderError(.sealedFileFailed, "a segment's audio does not decode: \(error.message)")
        }
    }
}
