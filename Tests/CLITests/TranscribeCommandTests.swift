import CallVaultTestSupport
import Foundation
import Testing

/// `callvault transcribe FILE` run as a child process on the committed sample speech.
@Suite(.timeLimit(.minutes(15))) struct TranscribeCommandTests {
    static let samples = Repository.samples

    @Test func transcribesASampleAsTextJSONAndSubtitles() throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: NSTemporaryDirectory())
        let file = Self.samples + "/disclosure.ulaw.wav"
        let text = try cli.run(["transcribe", file])
        #expect(text.status == 0 && text.stdout.contains("recorded for quality"), "\(text.stderr)")
        let json = try cli.run(["transcribe", file, "--format", "json"])
        let files = try #require(try json.json()["files"] as? [[String: Any]])
        let segments = try #require(files.first?["segments"] as? [[String: Any]])
        #expect(!segments.isEmpty && segments.allSatisfy { ($0["words"] as? [Any])?.isEmpty == false })
        let srt = try cli.run(["transcribe", file, "--format", "srt"])
        #expect(srt.stdout.hasPrefix("1\n00:00:0") && srt.stdout.contains(" --> "))
        let vtt = try cli.run(["transcribe", file, "--format", "vtt"])
        #expect(vtt.stdout.hasPrefix("WEBVTT"))
        let missing = try cli.run(["transcribe", "/nonexistent/call.wav"])
        #expect(missing.status == 1 && missing.stderr.contains("callvault: error: /nonexistent/call.wav"))
        #expect(text.stderr.contains("callvault: engine: "), "the engine used is named")
    }
}
