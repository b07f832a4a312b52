import CallVaultArchive
import CallVaultModel
public import CallVaultStore
public import CallVaultObjects
public import Foundation
public import Logging

/// A data subject's right of access and to portability (GDPR Art. 15 and 20): everything kept about
/// one caller, decrypted into one ZIP — a stereo WAV, the transcripts and the consent evidence per
/// call, and `manifest.json` saying what is included and what is not, and why.
///
/// The caller is found through the tenant's keyed phone hash, as for erasure; the number never
/// reaches the archive, the logs or the audit log. Every decryption is audited as usual
/// (`recording.decrypted`, `transcript.decrypted`, purpose `subject export`), the whole export as
/// `subject.exported` with counts. The archive is written to a temporary file beside `--out` and
/// renamed into place only when complete.
///
/// Restricted recordings (GDPR Art. 18) are left out unless ``Options/includeRestricted`` is set;
/// then each one is audited `recording.restriction_overridden` with ``Options/overrideReason``.
/// Art. 18(2) lets restricted data be processed with the data subject's consent — the subject's own
/// access request is that consent for giving the subject a copy, hence the default reason — but an
/// operator must still ask for it explicitly, so that a restriction is never bypassed by accident.
public struct SubjectExport: Sendable {
    public let catalog: any CatalogStore
    public let keyStore: KeyStore
    public let dataDirectory: DataDirectory
    let logger: Logger

    /// The purpose written in each decryption's audit entry.
    public static let purpose = "subject export"
    /// The override reason when none is given: the data subject asked for their own data.
    public static let defaultOverrideReason = "the data subject's own access request (GDPR Art. 15, Art. 18(2) consent)"

    /// The object store the directory's sealed files are uploaded to; nil: all in the directory.
    public let objects: (any ObjectStore)?

    public init(
        catalog: any CatalogStore, keyStore: KeyStore, dataDirectory: DataDirectory, logger: Logger,
        objects: (any ObjectStore)? = nil
    ) {
        self.objects = objects
        self.catalog = catalog
        self.keyStore = keyStore
        self.dataDirectory = dataDirectory
        self.logger = logger
    }

    public struct Options: Sendable {
        /// Include restricted recordings (each audited `recording.restriction_overridden`).
        public var includeRestricted: Bool
        /// Why the restriction is overridden (kept in the audit entries; 1–500 bytes).
        public var overrideReason: String
        /// Replace an existing output file.
        public var overwrite: Bool
        /// Who asked, for the audit log.
        public var actor: String

        public init(
            includeRestricted: Bool = false, overrideReason: String = SubjectExport.defaultOverrideReason,
            overwrite: Bool = false, actor: String = "cli"
        ) {
            self.includeRestricted = includeRestricted
            self.overrideReason = overrideReason
            self.overwrite = overwrite
            self.actor = actor
        }
    }

    /// What an export wrote (counts and ids only; never the number).
    public struct Receipt: Sendable, Codable, Equatable {
        public var exportId: String
        public var tenantId: String
        public var path: String
        public var bytes: UInt64
        public var calls: [String] = []
        public var recordingsIncluded = 0
        public var recordingsShredded = 0
        /// Restricted recordings left out (no override).
        public var recordingsRestricted = 0
        /// Restricted recordings included by the override.
        public var restrictionsOverridden = 0
        public var recordingsUnreadable = 0
        public var transcriptsIncluded = 0
        public var transcriptsShredded = 0
        public var transcriptsUnreadable = 0
        /// Transcripts left out because a recording of their call is restricted (no override).
        public var transcriptsRestricted = 0
        public var at: Date

        /// The audit entry's details.
        var auditDetails: [String: String] {
            [
                "calls": calls.joined(separator: ","),
                "recordingsIncluded": String(recordingsIncluded), "recordingsShredded": String(recordingsShredded),
                "recordingsRestricted": String(recordingsRestricted),
                "restrictionsOverridden": String(restrictionsOverridden),
                "recordingsUnreadable": String(recordingsUnreadable),
                "transcriptsIncluded": String(transcriptsIncluded), "transcriptsShredded": String(transcriptsShredded),
                "transcriptsUnreadable": String(transcriptsUnreadable),
                "transcriptsRestricted": String(transcriptsRestricted), "bytes": String(bytes),
            ]
        }
    }

    /// Exports everything about the caller `phoneNumber` of tenant `tenantID` into the ZIP at `path`.
    ///
    /// Fails, leaving no file, when the caller has no call in the tenant, when `path` exists (unless
    /// `options.overwrite`), or when anything cannot be written or audited. A shredded, restricted or
    /// unreadable item is not a failure: the manifest lists it with its status and reason.
    public func export(
        tenantID: String, phoneNumber: String, to path: String, options: Options = Options(), at now: Date = Date()
    ) async throws(RetentionError) -> Receipt {
        if options.includeRestricted {
            guard !options.overrideReason.isEmpty, options.overrideReason.utf8.count <= 500 else {
                throw RetentionError(.invalidArgument, "overriding a restriction needs a reason of 1 to 500 bytes")
            }
        }
        if !options.overwrite && FileManager.default.fileExists(atPath: path) {
            throw RetentionError(.outputExists, "\(path) exists; it was not replaced")
        }
        let calls = try await findCalls(tenantID: tenantID, phoneNumber: phoneNumber)
        let recordings: [RecordingRecord]
        let transcripts: [TranscriptRecord]
        do {
            recordings = try await catalog.recordings(inCalls: calls.map(\.id))
            transcripts = try await catalog.transcripts(inCalls: calls.map(\.id))
        } catch {
            throw RetentionError(.catalogFailed, "cannot list the caller's recordings: \(error.message)")
        }
        let exportID = "EXPORT-" + UUID().uuidString.lowercased()
        let zip = try StoredZipWriter(destination: path, modified: now)
        defer { zip.discard() }
        var receipt = Receipt(exportId: exportID, tenantId: tenantID, path: path, bytes: 0, at: now)
        receipt.calls = calls.map(\.id)
        var manifest = SubjectExportManifest(
            format: SubjectExportManifest.formatName, version: SubjectExportManifest.currentVersion, exportId: exportID,
            tenantId: tenantID, exportedAt: now, caller: SubjectExportManifest.callerDescription,
            restrictedIncluded: options.includeRestricted, calls: [])
        for call in calls {
            let entry = try await exportCall(
                call, recordings: recordings.filter { $0.callId == call.id },
                transcripts: transcripts.filter { $0.callId == call.id }, exportID: exportID, options: options,
                into: zip, receipt: &receipt)
            manifest.calls.append(entry)
        }
        try zip.add("manifest.json", try Self.json(manifest))
        receipt.bytes = try zip.finish()
        // Audited before the archive appears: if the entry cannot be written, no archive is left.
        do {
            _ = try await catalog.audit.append(
                AuditEvent(
                    actor: options.actor, action: .subjectExported, tenantID: tenantID, subjectID: exportID,
                    details: receipt.auditDetails, at: now))
        } catch {
            throw RetentionError(.catalogFailed, "the export could not be audited, so it was not kept: \(error.message)")
        }
        do { try zip.moveIntoPlace(replacing: options.overwrite) } catch {
            throw RetentionError(
                error.code,
                "\(error.message) (the audit log's subject.exported entry \(exportID) records this attempt; no file was left)")
        }
        logger.info(
            "subject export written",
            metadata: [
                "tenant": "\(tenantID)", "export": "\(exportID)", "calls": "\(calls.count)",
                "recordings": "\(receipt.recordingsIncluded)", "transcripts": "\(receipt.transcriptsIncluded)",
            ])
        return receipt
    }

    private func findCalls(tenantID: String, phoneNumber: String) async throws(RetentionError) -> [CallRecord] {
        let keys: CallerKeys
        do { keys = try keyStore.callerKeys(tenantID: tenantID) } catch {
            throw RetentionError(
                error.code == .unknownTenant ? .notFound : .keyStoreFailed,
                error.code == .unknownTenant ? error.message : "tenant \(tenantID): \(error.message)")
        }
        let calls: [CallRecord]
        do { calls = try await catalog.calls(tenantID: tenantID, callerNumber: phoneNumber, callerKeys: keys) } catch {
            throw RetentionError(
                error.code == .notFound ? .notFound : error.code == .invalidArgument ? .invalidArgument : .catalogFailed,
                error.message)
        }
        guard !calls.isEmpty else {
            throw RetentionError(.notFound, "tenant \(tenantID) has no call from the caller whose number was given; nothing was written")
        }
        return calls
    }

    /// Adds one call's files to the archive and returns its manifest entry.
    private func exportCall(
        _ call: CallRecord, recordings: [RecordingRecord], transcripts: [TranscriptRecord], exportID: String,
        options: Options, into zip: StoredZipWriter, receipt: inout Receipt
    ) async throws(RetentionError) -> SubjectExportManifest.Call {
        let folder = "calls/\(call.id)"
        var entry = SubjectExportManifest.Call(
            id: call.id, externalId: call.externalId, startedAt: call.startedAt, endedAt: call.endedAt, files: [],
            audio: nil, recordings: [], transcripts: [], consentEventCount: 0, pausedSpanCount: 0)
        var tracks: [(RecordingTrack, ExportedRecording)] = []
        for recording in recordings {
            let (item, audio) = try await exportRecording(recording, exportID: exportID, options: options, receipt: &receipt)
            entry.recordings.append(item)
            if let audio { tracks.append((recording.track, audio)) }
        }
        if !tracks.isEmpty {
            let stereo = Self.stereo(tracks)
            let file = "\(folder)/audio.wav"
            let wav: [UInt8]
            do { wav = try Self.wav(stereo) } catch { throw RetentionError(.outputFailed, "call \(call.id): \(error.message)") }
            try zip.add(file, wav)
            entry.files.append(file)
            entry.audio = SubjectExportManifest.Audio(
                file: file, sampleRate: stereo.rate, channels: 2, left: "caller", right: "bot",
                durationMs: Int64(stereo.samples.count / 2) * 1000 / Int64(stereo.rate))
        }
        // A transcript is made from the call's tracks: while one of them is restricted (and not
        // overridden), its text is held back too, as the restriction's purpose would otherwise be lost.
        let restrictedCall = !options.includeRestricted && recordings.contains { $0.restricted && $0.state != .shredded }
        var usedNames: Set<String> = []
        let store = TranscriptStore(catalog: catalog, keyStore: keyStore, dataDirectory: dataDirectory, objects: objects)
        for transcript in transcripts {
            var item = SubjectExportManifest.TranscriptItem(
                id: transcript.id, engine: transcript.engine, state: transcript.state.rawValue,
                createdAt: transcript.createdAt, status: .shredded)
            if transcript.state == .shredded {
                item.reason = Self.shreddedReason
                receipt.transcriptsShredded += 1
            } else if restrictedCall {
                item.status = .restricted
                item.reason = Self.restrictedTranscriptReason
                receipt.transcriptsRestricted += 1
            } else {
                do {
                    let opened = try await store.open(
                        id: transcript.id, tenantID: call.tenantId, actor: options.actor, purpose: Self.purpose,
                        restrictionOverride: options.includeRestricted
                            ? RestrictionOverride(reason: options.overrideReason) : nil,
                        auditDetails: ["export": exportID])
                    var name = "\(folder)/transcript-\(Self.safeName(transcript.engine)).json"
                    if usedNames.contains(name) { name = "\(folder)/transcript-\(Self.safeName(transcript.engine))-\(transcript.id).json" }
                    usedNames.insert(name)
                    try zip.add(name, try Self.json(opened.transcript))
                    entry.files.append(name)
                    item.status = .included
                    item.file = name
                    receipt.transcriptsIncluded += 1
                } catch let error as TranscriptionError {
                    if error.code == .shredded {
                        item.reason = Self.shreddedReason
                        receipt.transcriptsShredded += 1
                    } else if error.code == .restricted {
                        // A track of the call was restricted after the listing: held back like the others.
                        item.status = .restricted
                        item.reason = Self.restrictedTranscriptReason
                        receipt.transcriptsRestricted += 1
                    } else if error.code == .storeFailed && error.message.contains("could not be audited") {
                        throw RetentionError(.catalogFailed, error.message)
                    } else {
                        item.status = .unreadable
                        item.reason = error.message
                        receipt.transcriptsUnreadable += 1
                    }
                } catch let error as RetentionError {
                    throw error
                } catch {
                    throw RetentionError(.outputFailed, "\(error)")
                }
            }
            entry.transcripts.append(item)
        }
        let consent: SubjectExportConsent
        do {
            consent = SubjectExportConsent(
                callId: call.id,
                events: try await catalog.consentEvents(callID: call.id).map {
                    .init(kind: $0.kind.rawValue, method: $0.method.rawValue, at: $0.at, timelineMs: $0.timelineMs, frameIndex: $0.frameIndex)
                },
                pausedSpans: try await catalog.pausedSpans(callID: call.id).map {
                    .init(recordingId: $0.recordingId, startMs: $0.startMs, endMs: $0.endMs)
                })
        } catch {
            throw RetentionError(.catalogFailed, "cannot read call \(call.id)'s consent events: \(error.message)")
        }
        let consentFile = "\(folder)/consent.json"
        try zip.add(consentFile, try Self.json(consent))
        entry.files.append(consentFile)
        entry.consentEventCount = consent.events.count
        entry.pausedSpanCount = consent.pausedSpans.count
        return entry
    }

    /// Decides on one recording and, when it is to be included, decrypts it (audited).
    private func exportRecording(
        _ recording: RecordingRecord, exportID: String, options: Options, receipt: inout Receipt
    ) async throws(RetentionError) -> (SubjectExportManifest.Recording, ExportedRecording?) {
        var item = SubjectExportManifest.Recording(
            id: recording.id, track: recording.track.rawValue, state: recording.state.rawValue,
            codec: recording.codec.rawValue, sampleRate: recording.sampleRate, createdAt: recording.createdAt,
            status: .shredded, redactedFrom: recording.redactedFrom, redaction: recording.redaction)
        if recording.state == .shredded {
            item.reason = Self.shreddedReason
            receipt.recordingsShredded += 1
            return (item, nil)
        }
        // Left out without asking the exporter: a restricted recording is not the subject export's
        // failure, just an item the manifest names. With the override, the exporter audits it.
        if recording.restricted && !options.includeRestricted {
            return Self.leftOutAsRestricted(item, receipt: &receipt)
        }
        let exporter = RecordingExporter(
            catalog: catalog, keyStore: keyStore, dataDirectory: dataDirectory, payloadFormat: SegmentPayload.format,
            objects: objects)
        do {
            let audio = try await exporter.export(
                recordingID: recording.id, tenantID: recording.tenantId, actor: options.actor, purpose: Self.purpose,
                restrictionOverride: options.includeRestricted
                    ? RestrictionOverride(reason: options.overrideReason) : nil,
                auditDetails: ["export": exportID], onTimeline: true)
            item.status = .included
            item.durationMs = audio.durationMs
            if !audio.isComplete {
                item.reason = "the recording was cut short (\(recording.state.rawValue)); included up to its last verified segment"
            }
            if audio.restrictionOverridden {
                item.restrictionOverridden = true
                receipt.restrictionsOverridden += 1
            }
            receipt.recordingsIncluded += 1
            return (item, audio)
        } catch {
            switch error.code {
            case .shredded:
                item.reason = Self.shreddedReason
                receipt.recordingsShredded += 1
            case .restricted:
                // Restricted after the listing: refused by the exporter, left out like the others.
                return Self.leftOutAsRestricted(item, receipt: &receipt)
            case .auditFailed:
                throw RetentionError(.catalogFailed, error.message)
            default:
                item.status = .unreadable
                item.reason = error.message
                receipt.recordingsUnreadable += 1
            }
            return (item, nil)
        }
    }

    private static func leftOutAsRestricted(_ item: SubjectExportManifest.Recording, receipt: inout Receipt)
        -> (SubjectExportManifest.Recording, ExportedRecording?)
    {
        var item = item
        item.status = .restricted
        item.reason = "restricted (GDPR Art. 18): kept but not processed; included only by an audited override"
        receipt.recordingsRestricted += 1
        return (item, nil)
    }

    static let restrictedTranscriptReason =
        "made from a restricted recording of this call (GDPR Art. 18); included only by the audited override"

    static let shreddedReason =
        "shredded (retention ended or erased): its keys were destroyed, so no one can read it any more"

    /// An engine name as a file name: letters, digits, `.`, `_`, `-`; anything else becomes `_`.
    static func safeName(_ name: String) -> String {
        let safe = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
        return safe.isEmpty || safe.hasPrefix(".") ? "engine" + safe : safe
    }

    static func json(_ value: some Encodable) throws(RetentionError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do { return Array(try encoder.encode(value)) } catch {
            throw RetentionError(.outputFailed, "cannot encode \(type(of: value)) as JSON")
        }
    }
}
