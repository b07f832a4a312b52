import ArgumentParser
import CallVaultArchive
import CallVaultAudio
import CallVaultModel
import CallVaultStore
import Foundation
import Logging

/// `recordings export` and `calls export`: decrypt to a WAV/FLAC/Ogg file (by extension), audited.
enum ExportSupport {
    /// The stores of an initialised data directory and an exporter over them.
    static func exporter(_ options: DataOptions) async throws -> (any CatalogStore, RecordingExporter) {
        ProcessHardening.disableCoreDumps()
        let keyStore = try await options.openKeyStore()
        let catalog: any CatalogStore
        do { catalog = try await options.openStore() } catch let error as CatalogError {
            throw CLIError.failure(error.message, hint: "run `callvault init` first")
        }
        return (
            catalog,
            RecordingExporter(
                catalog: catalog, keyStore: keyStore, dataDirectory: try options.directory,
                payloadFormat: SegmentPayload.format)
        )
    }

    static func fail(_ error: RecorderError) -> CLIError {
        let hint: String? =
            switch error.code {
            case .shredded: "shredded: its keys were destroyed at expiry or on erasure; no copy can be read"
            case .catalogFailed: "list ids with `callvault recordings list` or `callvault calls list`"
            case .sealedFileFailed: "run `callvault verify` on it"
            case .auditFailed: "the catalog may be busy or its disk full; retry, then run `callvault audit verify`"
            case .outputExists: "choose another --out; CallVault does not overwrite files"
            default: nil
            }
        return .failure(error.message, hint: hint)
    }

    /// The override a command was given, if any: a restricted recording (GDPR Art. 18) is refused by
    /// the exporter without one, and audited `recording.restriction_overridden` with one.
    static func restrictionOverride(_ reason: String?) -> RestrictionOverride? {
        reason.map(RestrictionOverride.init(reason:))
    }

    /// Refuses an `--out` that exists or has an unknown extension before anything is decrypted
    /// (the exporter's write checks again when it gives the file its name).
    static func checkOut(_ path: String) throws {
        guard RecordingExporter.fileExtensions.contains((path as NSString).pathExtension.lowercased()) else {
            throw CLIError.failure("\(path): unknown extension", hint: "use .wav, .flac, .ogg or .opus")
        }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw CLIError.failure("\(path) exists", hint: "choose another --out; CallVault does not overwrite files")
        }
    }
}

extension RecordingsCommand {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decrypt one recording to a WAV/FLAC/Ogg file (by extension); audited.")

        @OptionGroup var options: DataOptions
        @Argument(help: "The recording's id.") var id: String
        @Option(help: "The file to write (.wav, .flac, .ogg, .opus); never overwritten.") var out: String
        @Option(help: "Export a restricted (GDPR Art. 18) recording anyway, for this reason (audited).")
        var overrideReason: String?
        @Flag(help: "Print one JSON document on stdout.") var json = false

        func run() async throws {
            try ExportSupport.checkOut(out)
            let (_, exporter) = try await ExportSupport.exporter(options)
            let export: ExportedRecording
            do {
                export = try await exporter.export(
                    recordingID: id, actor: "cli", purpose: "export",
                    restrictionOverride: ExportSupport.restrictionOverride(overrideReason), onTimeline: true)
                try await exporter.write(
                    export.samples, sampleRate: export.sampleRate, channels: 1, to: out, actor: "cli",
                    tenantID: export.recording.tenantId, subjectID: id)
            } catch {
                throw ExportSupport.fail(error)
            }
            let summary: [String: String] = [
                "recordingId": id, "out": out, "durationMs": String(export.durationMs),
                "complete": export.isComplete ? "true" : "false",
            ]
            if json {
                try CatalogCommandSupport.printJSON(summary)
            } else {
                print("wrote \(out): \(export.durationMs) ms, \(export.sampleRate) Hz mono\(export.isComplete ? "" : " (interrupted recording: up to its last verified segment)")")
            }
        }
    }
}

extension CallsCommand {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Both tracks of a call as one stereo file: caller left, bot right, aligned; audited.")

        @OptionGroup var options: DataOptions
        @Argument(help: "The call's id (catalog id or the provider's call id).") var callID: String
        @Option(help: "The file to write (.wav, .flac, .ogg, .opus); never overwritten.") var out: String
        @Option(help: "Export restricted (GDPR Art. 18) recordings anyway, for this reason (audited).")
        var overrideReason: String?
        @Flag(help: "Print one JSON document on stdout.") var json = false

        func run() async throws {
            try ExportSupport.checkOut(out)
            let (catalog, exporter) = try await ExportSupport.exporter(options)
            let call: CallRecord
            do {
                if let byID = try? await catalog.call(id: callID, tenantID: nil) {
                    call = byID
                } else if let byExternal = try await catalog.calls(externalID: callID).first {
                    call = byExternal
                } else {
                    throw CLIError.failure("no call with id \(callID)", hint: "list ids with `callvault calls list`")
                }
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError.failure("\(error)")
            }
            let recordings: [RecordingRecord]
            do { recordings = try await catalog.recordings(inCalls: [call.id]).filter { $0.state != .shredded } } catch {
                throw CLIError.failure(error.message)
            }
            guard !recordings.isEmpty else {
                throw CLIError.failure("call \(callID) has no readable recording", hint: "nothing was recorded (no consent?), or it was shredded")
            }
            // A pre-check, so that no track is decrypted when another one will be refused; the exporter
            // enforces the restriction (and audits an override) itself.
            if overrideReason == nil, let restricted = recordings.first(where: \.restricted) {
                throw ExportSupport.fail(RecordingExporter.restrictedError(recordingID: restricted.id))
            }
            let override = ExportSupport.restrictionOverride(overrideReason)
            var tracks: [RecordingTrack: ExportedRecording] = [:]
            for recording in recordings {
                do {
                    tracks[recording.track] = try await exporter.export(
                        recordingID: recording.id, actor: "cli", purpose: "call export", restrictionOverride: override,
                        onTimeline: true)
                } catch {
                    throw ExportSupport.fail(error)
                }
            }
            let rate = tracks.values.map(\.sampleRate).max() ?? 8000
            guard tracks.values.allSatisfy({ $0.sampleRate == rate }) else {
                throw CLIError.failure("the tracks of call \(callID) have different sample rates; export them one by one")
            }
            let left = tracks[.caller]?.samples ?? []
            let right = tracks[.bot]?.samples ?? []
            let frames = max(left.count, right.count)
            var stereo = [Int16](repeating: 0, count: frames * 2)
            for i in 0..<left.count { stereo[2 * i] = left[i] }
            for i in 0..<right.count { stereo[2 * i + 1] = right[i] }
            do {
                try await exporter.write(
                    stereo, sampleRate: rate, channels: 2, to: out, actor: "cli", tenantID: call.tenantId,
                    subjectID: call.id, details: ["tracks": String(tracks.count)])
            } catch {
                throw ExportSupport.fail(error)
            }
            let durationMs = frames * 1000 / rate
            if json {
                try CatalogCommandSupport.printJSON(["callId": call.id, "out": out, "durationMs": String(durationMs)])
            } else {
                print("wrote \(out): \(durationMs) ms stereo at \(rate) Hz (left: caller, right: bot)")
            }
        }
    }
}
