import CallVaultTestSupport
import Foundation
import Testing

/// `callvault probe`, run as the built binary the way an operator or scripts/demo runs it.
@Suite(.timeLimit(.minutes(15))) struct ProbeCommandTests {
    static let samples = Repository.samples

    private func cli() throws -> CatalogCLIProcess {
        let executable = try #require(
            CatalogCLIProcess.executable(),
            "the callvault executable was not found beside the tests; build it first"
        )
        // probe needs no data directory; point it somewhere that does not exist to prove it.
        return CatalogCLIProcess(
            executable: executable,
            dataDirectory: NSTemporaryDirectory() + "callvault-probe-" + UUID().uuidString
        )
    }

    @Test func theDTMFSampleHoldsDigitOne() throws {
        let path = Self.samples + "/dtmf-1.ulaw.wav"
        let result = try cli().run(["probe", path, "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let files = try #require(try result.json()["files"] as? [[String: Any]])
        let file = try #require(files.first)
        #expect(files.count == 1)
        #expect(file["file"] as? String == path)
        #expect(file["sampleRate"] as? Int == 8000 && file["channels"] as? Int == 1)
        #expect((file["format"] as? String)?.contains("U-Law") == true)
        #expect(file["durationMs"] as? Int == 200)
        // The tone is made at −6 dB per pair (scripts/make-samples); its peak is a few dB below full scale.
        let peak = try #require(file["peakDBFS"] as? Double)
        #expect((-9.0)...(-3.0) ~= peak, "peak \(peak) dBFS")
        let keys = try #require(file["dtmf"] as? [[String: Any]])
        #expect(keys.count == 1)
        #expect(keys.first?["digit"] as? String == "1")
        // The press lasts 0–100 ms; it is confirmed within it.
        #expect((0...100).contains(keys.first?["atMs"] as? Int ?? -1))
    }

    @Test func speechHasNoDigitsAndTheHumanReportIsOneLinePerFile() throws {
        let result = try cli().run(["probe", Self.samples + "/caller.flac", Self.samples + "/dtmf-1.ulaw.wav"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasSuffix("DTMF: none") == true)
        #expect(lines.last?.contains("DTMF: 1 at 0.") == true)
    }

    @Test func aMissingFileExitsOneNamingIt() throws {
        let missing = NSTemporaryDirectory() + "no-such-call-" + UUID().uuidString + ".wav"
        let result = try cli().run(["probe", Self.samples + "/dtmf-1.ulaw.wav", missing, "--json"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty, "nothing on stdout when the command fails")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("callvault: error: \(missing)") == true, "stderr: \(result.stderr)")
    }
}
