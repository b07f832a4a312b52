import ArgumentParser
import CallVaultAudio
import CallVaultStore
import CallVaultTranscribe
import Foundation

/// `callvault transcribe FILE...`: speech to text for audio files (no catalog), in process.
struct TranscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcribe",
        abstract: "Transcribe audio files with the in-process pocketsphinx engine.",
        discussion: """
            Files are decoded with libsndfile, resampled to 16 kHz, split at silences and decoded
            utterance by utterance. Draining the recording queue (--pending) is not built yet.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, srt, vtt }

    @Argument(help: "Audio files (WAV, FLAC, Ogg/Opus, ...).") var files: [String]
    @Option(help: "Output: text, json, srt or vtt.") var format: Format = .text

    func run() async throws {
        ProcessHardening.disableCoreDumps()
        let engine: PocketSphinxEngine
        do { engine = try PocketSphinxEngine() } catch {
            throw CLIError.failure(error.message, hint: "scripts/bootstrap installs pocketsphinx-en-us")
        }
        var documents: [[String: AnyCodable]] = []
        for file in files {
            let segments: [TranscriptSegment]
            do {
                let reader = try AudioFileReader(path: file)
                var audio = try reader.readAllMono()
                if reader.sampleRate != 16_000 {
                    guard let rate = SampleRate(rawValue: reader.sampleRate) else {
                        throw CLIError.failure("\(file): \(reader.sampleRate) Hz cannot be resampled here", hint: "use 8, 16 or 48 kHz audio")
                    }
                    audio = Resampler.resample(audio, from: rate, to: .hz16000)
                }
                segments = try engine.transcribe(audio)
            } catch let error as AudioError {
                throw CLIError.failure(error.message)
            } catch let error as TranscriptionError {
                throw CLIError.failure(error.message)
            }
            switch format {
            case .text:
                if files.count > 1 { print("== \(file)") }
                print(segments.map(\.text).joined(separator: " "))
            case .json:
                documents.append(["file": .string(file), "engine": .string("pocketsphinx"), "segments": .segments(segments)])
            case .srt, .vtt:
                if format == .vtt { print("WEBVTT\n") }
                for (index, segment) in segments.enumerated() {
                    if format == .srt { print(index + 1) }
                    print("\(Self.time(segment.startMs, format)) --> \(Self.time(segment.endMs, format))")
                    print(segment.text + "\n")
                }
            }
        }
        if format == .json { try CatalogCommandSupport.printJSON(["files": documents]) }
    }

    /// `00:00:01,200` (SRT) or `00:00:01.200` (VTT).
    static func time(_ ms: Int, _ format: Format) -> String {
        String(format: "%02d:%02d:%02d%@%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, format == .srt ? "," : ".", ms % 1000)
    }

    /// The JSON values of a transcript document.
    enum AnyCodable: Encodable {
        case string(String)
        case segments([TranscriptSegment])

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let value): try container.encode(value)
            case .segments(let value): try container.encode(value)
            }
        }
    }
}
