import ArgumentParser
import CallVaultArchive
import CallVaultAudio
import CallVaultModel
import CallVaultRedaction
import CallVaultStore
import CallVaultTranscribe
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `callvault transcribe FILE...` (speech to text for files, no catalog) and
/// `callvault transcribe --pending` (drains the durable queue into sealed transcripts).
struct TranscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcribe",
        abstract: "Transcribe audio files, or drain the transcription queue (--pending).",
        discussion: """
            Files are decoded with libsndfile and resampled to 16 kHz. With --pending, workers claim
            jobs from the queue, unseal each recorded track in memory, transcribe it, and store one
            sealed transcript per call with the speakers named; the command exits 0 when nothing is
            left to do (failed jobs are retried later and dead-lettered after the retry limit).
            The engine used is named on stderr. Each call is transcribed in its tenant's language and,
            with whisper, with its tenant's own model if it has one (tenant set --transcript-model);
            --language and --model given here apply to every tenant instead. Other engines ignore
            tenants' models.
            """
    )

    @Argument(help: "Audio files (WAV, FLAC, Ogg/Opus, ...).") var files: [String] = []
    @Flag(help: "Drain the transcription queue of the data directory instead of reading files.") var pending = false
    @Option(help: "With --pending: claim at most N jobs.") var limit: Int?
    @Flag(
        help: ArgumentHelp(
            "With --pending: keep running and take new jobs as they are queued (woken by PostgreSQL's NOTIFY, or a "
                + "look every 100 ms on SQLite) until SIGTERM or SIGINT, then print the summary."))
    var wait = false
    @Option(help: "With --pending: worker threads, each with its own engine.") var workers: Int = 1
    @Option(
        help: ArgumentHelp(
            "With --pending: seconds a claimed job stays this worker's without a heartbeat (renewed every third of "
                + "it); a worker paused or cut off longer loses the job to another.", valueName: "S"))
    var lease: Int = 120
    @Option(help: "Output: text, json, srt or vtt (with --pending: text or json summary).")
    var format: String = "text"
    @Option(
        help: ArgumentHelp(
            "Files: replace what the offline detector finds of these categories with placeholders ([CARD], [IBAN], "
                + "[PHONE], [EMAIL], ...) before anything is printed; json adds the manifest. Queued calls (--pending) "
                + "follow their tenant's policy (tenant set --redact) instead.",
            valueName: "pci,bank,contact,ids|none"))
    var redact: String?
    @Option(
        help: ArgumentHelp(
            "Files: words and phrases the engine should expect, one per line (as tenant set --vocabulary takes them). "
                + "Queued calls (--pending) use their tenant's vocabulary instead.",
            valueName: "FILE"))
    var vocabulary: String?
    @OptionGroup var engine: EngineOptions
    @OptionGroup var options: DataOptions

    func validate() throws {
        guard TranscriptOutput.Format(rawValue: format) != nil else {
            throw ValidationError("--format '\(format)' is not one of text, json, srt, vtt")
        }
        if redact != nil {
            guard !pending else {
                throw ValidationError(
                    "--redact is for files: queued calls are redacted per their tenant's policy (tenant set ID --redact ...)")
            }
            _ = try redactCategories()
        }
        if vocabulary != nil, pending {
            throw ValidationError(
                "--vocabulary is for files: queued calls use their tenant's vocabulary (tenant set ID --vocabulary FILE)")
        }
        if pending {
            guard files.isEmpty else { throw ValidationError("give files or --pending, not both") }
            guard (1...64).contains(workers) else { throw ValidationError("--workers must be 1...64, not \(workers)") }
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
            guard (3...86_400).contains(lease) else { throw ValidationError("--lease must be 3...86400 seconds, not \(lease)") }
        } else {
            guard !wait else { throw ValidationError("--wait goes with --pending") }
            guard !files.isEmpty else { throw ValidationError("give audio files to transcribe, or --pending") }
        }
    }

    func run() async throws {
        ProcessHardening.disableCoreDumps()
        if pending { try await drain() } else { try transcribeFiles() }
    }

    // MARK: Files

    private func transcribeFiles() throws {
        let chosen = try engine.factory()
        let instance: any TranscriptionEngine
        do { instance = try chosen.make() } catch {
            throw CLIError.failure(error.message, hint: "scripts/bootstrap and scripts/install-whisper install the engines")
        }
        let output = TranscriptOutput.Format(rawValue: format) ?? .text
        let categories = try redactCategories()
        var transcriptionOptions = engine.transcriptionOptions
        if let vocabulary {
            do { transcriptionOptions.vocabulary = try TenantTranscription.vocabulary(contentsOfFile: vocabulary) } catch {
                throw CLIError.failure("--vocabulary \(vocabulary): \(error.message)")
            }
        }
        let progress = isatty(STDERR_FILENO) == 1 && files.count > 1
        var documents: [FileTranscript] = []
        for (index, file) in files.enumerated() {
            if progress { FileHandle.standardError.write(Data("\r[\(index + 1)/\(files.count)] \(file)\u{1B}[K".utf8)) }
            var segments: [TranscriptSegment]
            var detected: (language: String, probability: Double?)?
            var redactions: TranscriptRedactions?
            var engineSeconds = 0.0
            var audioSeconds = 0.0
            do {
                let reader = try AudioFileReader(path: file)
                var audio = try reader.readAllMono()
                if reader.sampleRate != TranscriptionEngineRate.hz {
                    guard let rate = SampleRate(rawValue: reader.sampleRate) else {
                        throw CLIError.failure("\(file): \(reader.sampleRate) Hz cannot be resampled here", hint: "use 8, 16 or 48 kHz audio")
                    }
                    audio = Resampler.resample(audio, from: rate, to: .hz16000)
                }
                let started = ContinuousClock.now
                let recognition = try instance.recognise(audio, options: transcriptionOptions)
                segments = recognition.segments
                detected = recognition.language.map { ($0, recognition.languageProbability) }
                let elapsed = ContinuousClock.now - started
                engineSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                audioSeconds = Double(audio.count) / Double(TranscriptionEngineRate.hz)
            } catch let error as AudioError {
                throw CLIError.failure(error.message)
            } catch let error as TranscriptionError {
                throw CLIError.failure("\(file): \(error.message)")
            }
            if !categories.isEmpty {
                (segments, redactions) = TranscriptRedaction.redact(segments, categories: categories)
            }
            let items = segments.map { (speaker: String?.none, segment: $0) }
            switch output {
            case .text:
                if files.count > 1 { print("== \(file)") }
                print(TranscriptOutput.text(items))
            case .json:
                documents.append(
                    FileTranscript(
                        file: file, engine: instance.name, audioSeconds: audioSeconds, engineSeconds: engineSeconds,
                        detectedLanguage: detected?.language, languageProbability: detected?.probability,
                        segments: segments, redactions: redactions))
            case .srt, .vtt:
                print(TranscriptOutput.subtitles(items, format: output), terminator: "")
            }
        }
        if progress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if output == .json { try CatalogCommandSupport.printJSON(["files": documents]) }
    }

    /// The `--redact` categories (empty without the flag); a bad spelling is refused, never read as none.
    private func redactCategories() throws -> Set<RedactionCategory> {
        guard let redact else { return [] }
        do { return try TenantRedaction(listText: redact).categories } catch {
            throw ValidationError("--redact: \(error.message)")
        }
    }

    struct FileTranscript: Encodable {
        let file: String
        let engine: String
        /// Seconds of audio, and seconds the engine took on it (model loading excluded).
        let audioSeconds: Double
        let engineSeconds: Double
        /// With --language auto: what the engine detected, and how sure it was (Whisper).
        let detectedLanguage: String?
        let languageProbability: Double?
        let segments: [TranscriptSegment]
        /// With --redact: what was replaced (no values).
        let redactions: TranscriptRedactions?
    }

    // MARK: Queue

    /// Cancels `task` on SIGTERM or SIGINT (instead of the default, which kills the process mid-job).
    private static func cancelOnSignals<T>(_ task: Task<T, any Error>) -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
    }

    private func drain() async throws {
        var logger = Logger(label: "callvault.transcribe")
        logger.logLevel = .warning
        let stores = try await RetentionStores.open(options, logger: logger)
        // With a bucket: transcripts a previous run sealed but could not upload go up first (a worker
        // machine may run no `serve` to do it).
        if let uploader = SealedFileUploader(catalog: stores.catalog, files: stores.files, logger: logger) {
            if let report = try? await uploader.uploadPending(), !report.failures.isEmpty {
                logger.warning(
                    "sealed files in this machine's spool could not be uploaded yet; `callvault objects reconcile` retries",
                    metadata: ["count": "\(report.failures.count)"])
            }
        }
        let chosen = try engine.factory()
        let transcriptionOptions = engine.transcriptionOptions
        let usesTenantLanguage = engine.language == nil
        let run = "\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(6).lowercased())"
        let terminal = isatty(STDERR_FILENO) == 1
        let counts = RunningCounts()
        let started = ContinuousClock.now
        let summary: TranscriptionSummary
        do throws(TranscriptionError) {
            let idle: TranscriptionPool.Idle = wait ? .wait(poll: .seconds(5)) : .stop
            let drainTask = Task { () async throws(TranscriptionError) -> TranscriptionSummary in
                try await TranscriptionPool.drain(
                    catalog: stores.catalog, keyStore: stores.keyStore, dataDirectory: stores.directory, workers: workers,
                    limit: limit, idle: idle,
                    configuration: { index in
                        TranscriptionWorker.Configuration(
                            workerID: "\(run)-\(index)", lease: .seconds(lease), options: transcriptionOptions,
                            usesTenantLanguage: usesTenantLanguage, objects: stores.objects)
                    },
                    makeEngine: chosen.make, makeModelEngine: chosen.makeForModel, logger: logger,
                    progress: { report in
                        let line = counts.value.withLock { counts -> String in
                            counts.add(report)
                            return "transcribe: \(counts.jobs) job(s): \(counts.done) done, \(counts.failed) failed, "
                                + "\(counts.dead) dead, \(counts.cancelled) cancelled"
                        }
                        // One line per job for logs; one updating line on a terminal.
                        let outcome: String
                        switch report.outcome {
                        case .done: outcome = "done"
                        case .failed(let why): outcome = "failed: \(why)"
                        case .dead(let why): outcome = "dead: \(why)"
                        case .cancelled(let why): outcome = "cancelled: \(why)"
                        case .deferred: outcome = "deferred: a track is still being recorded"
                        case .leaseLost: outcome = "lease lost: left to the worker that holds it"
                        }
                        let text = terminal ? "\r\(line)\u{1B}[K" : "job \(report.jobID) (call \(report.callID)): \(outcome)\n"
                        FileHandle.standardError.write(Data(text.utf8))
                    })
            }
            // With --wait the run ends when asked to (SIGTERM, SIGINT): the workers finish or drop what they
            // hold (a dropped job is claimed again once its lease runs out) and the summary is printed.
            let signals = wait ? Self.cancelOnSignals(drainTask) : []
            defer { signals.forEach { $0.cancel() } }
            summary = try await drainTask.valueThrowingTyped()
        } catch {
            throw CLIError.failure(error.message, hint: error.code == .modelMissing ? "run scripts/install-whisper or scripts/bootstrap" : nil)
        }
        if terminal && summary.jobs > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        let wall = (ContinuousClock.now - started)
        let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        if format == "json" {
            try CatalogCommandSupport.printJSON(
                PendingSummary(
                    engine: chosen.name, workers: workers, done: summary.done, failed: summary.failed, dead: summary.dead,
                    cancelled: summary.cancelled, deferred: summary.deferred, audioSeconds: Double(summary.audioMs) / 1000,
                    engineSeconds: summary.engineSeconds, prepareSeconds: summary.prepareSeconds,
                    realTimeFactor: summary.realTimeFactor, overheadShare: summary.overheadShare, wallSeconds: wallSeconds,
                    botTextSegments: summary.botTextSegments, botTextUnspoken: summary.botTextUnspoken,
                    botTextMismatches: summary.botTextMismatches))
        } else {
            print(
                "transcribed with \(chosen.name): \(summary.done) done, \(summary.failed) failed, \(summary.dead) dead, "
                    + "\(summary.cancelled) cancelled, \(summary.deferred) deferred; "
                    + String(format: "%.1f s of audio, real-time factor %.3f, unseal+decode+resample %.1f%% of engine time",
                        Double(summary.audioMs) / 1000, summary.realTimeFactor, summary.overheadShare * 100)
                    + Self.buildNote)
            if summary.botTextSegments + summary.botTextUnspoken > 0 {
                print(
                    "bot text: \(summary.botTextSegments) turns from the bot's own words, \(summary.botTextUnspoken) never "
                        + "said, \(summary.botTextMismatches) flagged as not matching their audio")
            }
        }
    }

    /// Resampling and decoding are unoptimised Swift in a debug build, several times slower than released.
    #if DEBUG
        static let buildNote = " (debug build; release figures are in the README)"
    #else
        static let buildNote = ""
    #endif

    /// The counts so far, shared by the workers' progress callbacks.
    final class RunningCounts: Sendable {
        let value = Mutex(TranscriptionSummary())
    }

    struct PendingSummary: Encodable {
        let engine: String
        let workers, done, failed, dead, cancelled, deferred: Int
        let audioSeconds, engineSeconds, prepareSeconds, realTimeFactor, overheadShare, wallSeconds: Double
        /// Bot turns from the bot's own words, turns never said, turns whose audio did not match.
        let botTextSegments, botTextUnspoken, botTextMismatches: Int
    }
}

extension Task where Failure == any Error {
    /// The task's value, its error as the ``TranscriptionError`` the pool throws.
    fileprivate func valueThrowingTyped() async throws(TranscriptionError) -> Success {
        do { return try await value } catch let error as TranscriptionError { throw error } catch {
            throw TranscriptionError(.engineFailed, "the transcription run failed: \(error)")
        }
    }
}
