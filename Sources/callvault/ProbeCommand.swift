import ArgumentParser
import CallVaultAudio
import Foundation

/// `callvault probe FILE...`: what an audio file holds — format, rate, length, level, DTMF keys.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Decode audio files and report format, duration, level and DTMF keys found.")

    @Argument(help: "Audio files (WAV, FLAC, Ogg/Opus, ...).") var files: [String]
    @Flag(help: "Print one JSON document on stdout.") var json = false

    struct Report: Codable {
        var file: String
        var format: String
        var sampleRate: Int
        var channels: Int
        var durationMs: Int
        var peakDBFS: Double
        var rmsDBFS: Double
        var dtmf: [Key]

        struct Key: Codable {
            var digit: String
            var atMs: Int
        }
    }

    func run() async throws {
        var reports: [Report] = []
        for file in files {
            do {
                reports.append(try Self.probe(file))
            } catch {
                throw CLIError.failure(error.message, hint: "probe reads WAV, FLAC, Ogg/Opus and other libsndfile formats")
            }
        }
        if json {
            try CatalogCommandSupport.printJSON(["files": reports])
            return
        }
        for report in reports {
            let keys = report.dtmf.isEmpty ? "none" : report.dtmf.map { "\($0.digit) at \($0.atMs) ms" }.joined(separator: ", ")
            print(
                "\(report.file): \(report.format), \(report.sampleRate) Hz, \(report.channels) ch, "
                    + String(format: "%.2f s, peak %.1f dBFS, RMS %.1f dBFS, DTMF: %@", Double(report.durationMs) / 1000,
                        report.peakDBFS, report.rmsDBFS, keys))
        }
    }

    static func probe(_ path: String) throws(AudioError) -> Report {
        let reader = try AudioFileReader(path: path)
        let samples = try reader.readAllMono()
        let peak = samples.map { abs(Int($0)) }.max() ?? 0
        let power = samples.isEmpty ? 0 : samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)
        func dbfs(_ value: Double) -> Double { value <= 0 ? -120 : (20 * log10(value / 32768) * 10).rounded() / 10 }
        var keys: [Report.Key] = []
        if let rate = SampleRate(rawValue: reader.sampleRate) {
            var detector = try DTMFDetector(sampleRate: rate)
            let n = rate.samplesPerFrame
            var offset = 0
            samples.withUnsafeBufferPointer { all in
                while offset + n <= all.count {
                    if let digit = detector.process(UnsafeBufferPointer(rebasing: all[offset..<(offset + n)])) {
                        keys.append(.init(digit: String(digit.rawValue), atMs: offset * 1000 / reader.sampleRate))
                    }
                    offset += n
                }
            }
        }
        return Report(
            file: path, format: reader.formatName, sampleRate: reader.sampleRate, channels: reader.channels,
            durationMs: reader.durationMs, peakDBFS: dbfs(Double(peak)), rmsDBFS: dbfs(power.squareRoot()), dtmf: keys)
    }
}
