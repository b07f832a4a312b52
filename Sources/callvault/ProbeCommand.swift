import ArgumentParser
import CallVaultAudio
import Foundation

/// `callvault probe FILE...`: what an audio file holds — format, rate, length, level, DTMF keys.
///
/// The file is decoded 20 ms at a time through the same frame code a live call uses
/// (`AudioFileReader.readFrame`, `DTMFDetector`, `Resampler` for 48 kHz), so probing a sample is a
/// quick check that CallVault hears what a call would carry. No data directory is needed.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Decode audio files and report format, duration, level and DTMF keys found."
    )

    @Argument(help: "Audio files (WAV, FLAC, Ogg/Opus, ...).") var files: [String]
    @Flag(help: "Print one JSON document on stdout.") var json = false

    struct Report: Codable {
        var file: String
        var format: String
        var sampleRate: Int
        var channels: Int
        var durationMs: Int
        /// Levels of the channels' mix in dB relative to full scale; −120 stands for digital silence.
        var peakDBFS: Double
        var rmsDBFS: Double
        /// False when the file's rate is not 8, 16 or 48 kHz (the detector's rates, via resampling).
        var dtmfSearched: Bool
        var dtmf: [Key]

        struct Key: Codable {
            var digit: String
            /// Start of the 20 ms frame in which the key press was confirmed (≥ 40 ms into it).
            var atMs: Int
        }
    }

    func run() async throws {
        var reports: [Report] = []
        for file in files {
            do {
                reports.append(try Self.probe(file))
            } catch {
                throw CLIError.failure(
                    error.message,
                    hint: "probe reads WAV, FLAC, Ogg/Opus and other libsndfile formats"
                )
            }
        }
        if json {
            try CatalogCommandSupport.printJSON(["files": reports])
            return
        }
        for report in reports {
            let keys =
                !report.dtmfSearched
                ? "not searched (rate)"
                : report.dtmf.isEmpty
                    ? "none" : report.dtmf.map { "\($0.digit) at \(Self.seconds($0.atMs)) s" }.joined(separator: ", ")
            print(
                "\(report.file): \(report.format), \(report.sampleRate) Hz, \(report.channels) ch, "
                    + "\(Self.seconds(report.durationMs)) s, peak \(Self.decibels(report.peakDBFS)) dBFS, "
                    + "RMS \(Self.decibels(report.rmsDBFS)) dBFS, DTMF: \(keys)"
            )
        }
    }

    /// Decodes `path` frame by frame: levels of the mix, DTMF keys (at 16 kHz for a 48 kHz file).
    static func probe(_ path: String) throws(AudioError) -> Report {
        let reader = try AudioFileReader(path: path)
        let frame = UnsafeMutableBufferPointer<Int16>.allocate(capacity: reader.samplesPerFrame)
        defer { frame.deallocate() }
        let rate = SampleRate(rawValue: reader.sampleRate)
        let detectorRate: SampleRate? = rate.map { $0 == .hz48000 ? .hz16000 : $0 }
        let resampler = rate == .hz48000 ? Resampler(from: .hz48000, to: .hz16000) : nil
        let narrow = UnsafeMutableBufferPointer<Int16>.allocate(capacity: SampleRate.hz16000.samplesPerFrame)
        defer { narrow.deallocate() }
        var detector = try detectorRate.map { rate throws(AudioError) in try DTMFDetector(sampleRate: rate) }
        var keys: [Report.Key] = []
        var peak = 0
        var energy = 0.0
        var total = 0
        while true {
            let count = try reader.readFrame(into: frame)
            if count == 0 { break }
            for sample in frame.prefix(count) {
                peak = max(peak, abs(Int(sample)))
                energy += Double(sample) * Double(sample)
            }
            let atMs = total * 1000 / reader.sampleRate
            total += count
            var input = UnsafeBufferPointer(frame)
            if let resampler {
                let produced = resampler.process(input, into: narrow)
                input = UnsafeBufferPointer(rebasing: narrow[0..<produced])
            }
            if let digit = detector?.process(input) {
                keys.append(.init(digit: String(digit.rawValue), atMs: atMs))
            }
        }
        func dbfs(_ value: Double) -> Double { value <= 0 ? -120 : (20 * log10(value / 32_768) * 10).rounded() / 10 }
        return Report(
            file: path,
            format: reader.formatName,
            sampleRate: reader.sampleRate,
            channels: reader.channels,
            durationMs: total * 1000 / reader.sampleRate,
            peakDBFS: dbfs(Double(peak)),
            rmsDBFS: dbfs(total == 0 ? 0 : (energy / Double(total)).squareRoot()),
            dtmfSearched: detector != nil,
            dtmf: keys
        )
    }

    static func seconds(_ milliseconds: Int) -> String { String(format: "%.2f", Double(milliseconds) / 1000) }
    static func decibels(_ value: Double) -> String { value <= -120 ? "-inf" : String(format: "%.1f", value) }
}
