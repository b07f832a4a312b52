import ArgumentParser
import CallVaultAudio
import CallVaultRecorder
import CallVaultStore
import Foundation
import Logging

/// `recordings export` and `calls export`: decrypt to a WAV/FLAC/Ogg file (by extension), audited.
enum ExportSupport {
    /// The stores of an initialised data directory and an exporter over them.
    static func exporter(_ options: DataOptions) throws -> (Catalog, RecordingExporter) {
        ProcessHardening.disableCoreDumps()
        let keyStore = try options.openKeyStore()
        let catalog: Catalog
        do { catalog = try options.openCatalog() } catch let error as CatalogError {
            throw CLIError.failure(error.message, hint: "run `callvault init` first")
        }
        return (
            catalog,
            RecordingExporter(
                catalog: catalog, keyStore: keyStore, dataDirectory: options.directory,
                payloadFormat: SegmentPayload.format)
        )
    }

    static func fail(_ error: RecorderError) -> CLIError {
        let hint: String? =
            switch error.code {
            case .shredded: "its keys were destroyed at expiry or on erasure; no copy can be read"
            case .catalogFailed: "list ids with `callvault recordings list` or `callvault calls list`"
            case .sealedFileFailed: "run `callvault verify` on it"
            default: nil
            }
        return .failure(error.message, hint: hint)
    }

    /// Refuses a restricted recording (GDPR Art. 18) unless `override` gives a reason, which is then
    /// audited (`recording.restriction_overridden`) before anything is decrypted.
    static func checkRestriction(_ recording: RecordingRecord, override: String?, catalog: Catalog) throws {
        guard recording.restricted else { return }
        guard let override, !override.isEmpty else {
            throw CLIError.failure(
                "recording \(recording.id) is restricted (GDPR Art. 18): kept, but not exported",
                hint: "pass --override-reason TEXT to export it anyway (audited), or lift it with `callvault recordings restrict --lift`")
        }
        do {
            try catalog.auditLog.append(
                actor: "cli", action: .restrictionOverridden, tenantID: recording.tenantId, subjectID: recording.id,
                details: ["purpose": "export", "reason": String(override.prefix(500))])
        } catch {
            throw CLIError.failure("the override could not be audited, so nothing was exported: \(error.message)")
        }
    }

    /// Writes interleaved PCM16 to `path` (format by extension), replacing nothing that exists.
    static func write(_ samples: [Int16], rate: Int, channels: Int, to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw CLIError.failure("\(path) exists", hint: "choose another --out; CallVault does not overwrite files")
        }
        do {
            let writer = try AudioFileWriter(path: path, sampleRate: rate, channels: channels)
            try writer.write(samples)
            try writer.close()
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw CLIError.failure(error.message, hint: "use .wav, .flac, .ogg or .opus")
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
            let (catalog, exporter) = try ExportSupport.exporter(options)
            do {
                try ExportSupport.checkRestriction(catalog.recording(id: id), override: overrideReason, catalog: catalog)
            } catch let error as CatalogError {
                throw CLIError.failure(error.message, hint: "list ids with `callvault recordings list`")
            }
            let export: ExportedRecording
            do {
                export = try exporter.export(recordingID: id, actor: "cli", purpose: "export", onTimeline: true)
            } catch {
                throw ExportSupport.fail(error)
            }
            try ExportSupport.write(export.samples, rate: export.sampleRate, channels: 1, to: out)
            _ = try? options.openCatalog().auditLog.append(
                actor: "cli", action: .recordingExported, tenantID: export.recording.tenantId, subjectID: id,
                details: ["file": (out as NSString).lastPathComponent])
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
            let (catalog, exporter) = try ExportSupport.exporter(options)
            let call: CallRecord
            do {
                if let byID = try? catalog.call(id: callID) {
                    call = byID
                } else if let byExternal = try catalog.calls(externalID: callID).first {
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
            do { recordings = try catalog.recordings(inCalls: [call.id]).filter { $0.state != .shredded } } catch {
                throw CLIError.failure(error.message)
            }
            guard !recordings.isEmpty else {
                throw CLIError.failure("call \(callID) has no readable recording", hint: "nothing was recorded (no consent?), or it was shredded")
            }
            for recording in recordings {
                try ExportSupport.checkRestriction(recording, override: overrideReason, catalog: catalog)
            }
            var tracks: [RecordingTrack: ExportedRecording] = [:]
            for recording in recordings {
                do {
                    tracks[recording.track] = try exporter.export(
                        recordingID: recording.id, actor: "cli", purpose: "call export", onTimeline: true)
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
            try ExportSupport.write(stereo, rate: rate, channels: 2, to: out)
            _ = try? catalog.auditLog.append(
                actor: "cli", action: .recordingExported, tenantID: call.tenantId, subjectID: call.id,
                details: ["file": (out as NSString).lastPathComponent, "tracks": String(tracks.count)])
            let durationMs = frames * 1000 / rate
            if json {
                try CatalogCommandSupport.printJSON(["callId": call.id, "out": out, "durationMs": String(durationMs)])
            } else {
                print("wrote \(out): \(durationMs) ms stereo at \(rate) Hz (left: caller, right: bot)")
            }
        }
    }
}
