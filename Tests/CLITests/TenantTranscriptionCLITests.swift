import CallVaultTestSupport
import Foundation
import Testing

/// `tenant add|set --bot-transcript` and `--vocabulary` through the real `callvault` binary, and
/// `transcribe FILE --vocabulary` handing the phrases to a command engine.
@Suite(.timeLimit(.minutes(15))) struct TenantTranscriptionCLITests {
    @Test func theSettingsAreTakenShownAuditedAndABadValueIsRefusedByName() throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let temp = NSTemporaryDirectory() + "cv-tenant-transcription-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: temp + "/data")
        #expect(try cli.run(["init"]).status == 0)
        let added = try cli.run(["tenant", "add", "acme", "--json"])
        #expect(added.status == 0, "\(added.stderr)")
        let id = try #require(try added.json()["id"] as? String)
        let defaults = try #require(try added.json()["transcription"] as? [String: Any])
        #expect(defaults["botTranscript"] as? String == "text" && (defaults["vocabulary"] as? [String])?.isEmpty == true)

        try "# products\nZorvex\nKerkhoven\n".write(toFile: temp + "/words.txt", atomically: true, encoding: .utf8)
        let set = try cli.run(["tenant", "set", id, "--bot-transcript", "both", "--vocabulary", temp + "/words.txt", "--json"])
        #expect(set.status == 0, "\(set.stderr)")
        let settings = try #require(try set.json()["transcription"] as? [String: Any])
        #expect(settings["botTranscript"] as? String == "both" && settings["vocabulary"] as? [String] == ["Zorvex", "Kerkhoven"])
        let shown = try cli.run(["tenant", "show", id])
        #expect(shown.stdout.contains("bot-transcript") && shown.stdout.contains("2 phrases"), "\(shown.stdout)")
        let audit = try cli.run(["audit", "list", "--json"])
        #expect(audit.stdout.contains("botTranscript") && !audit.stdout.contains("Kerkhoven"), "counted, not copied")

        let bad = try cli.run(["tenant", "set", id, "--bot-transcript", "llm"])
        #expect(bad.status == 2 && bad.stderr.contains("--bot-transcript llm") && bad.stderr.contains("text, asr or both"))
        let missing = try cli.run(["tenant", "set", id, "--vocabulary", temp + "/nope.txt"])
        #expect(missing.status == 2 && missing.stderr.contains("cannot read"), "\(missing.stderr)")
        try String(repeating: "x", count: 150).write(toFile: temp + "/long.txt", atomically: true, encoding: .utf8)
        let long = try cli.run(["tenant", "set", id, "--vocabulary", temp + "/long.txt"])
        #expect(long.status == 2 && long.stderr.contains("line 1 is 150 bytes"), "\(long.stderr)")
        let unchanged = try #require(try cli.run(["tenant", "show", id, "--json"]).json()["transcription"] as? [String: Any])
        #expect(unchanged["vocabulary"] as? [String] == ["Zorvex", "Kerkhoven"], "a refused change changes nothing")

        let cleared = try cli.run(["tenant", "set", id, "--vocabulary", "none", "--bot-transcript", "text", "--json"])
        let none = try #require(try cleared.json()["transcription"] as? [String: Any])
        #expect(none["botTranscript"] as? String == "text" && (none["vocabulary"] as? [String])?.isEmpty == true)

        // A file: the phrases reach the engine (a command engine that prints the vocabulary file it was given).
        let script = temp + "/engine.sh"
        try "#!/bin/sh\ntr '\\n' ' ' < \"$2\"\n".write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: script)
        let file = Repository.samples + "/answer.ulaw.wav"
        let run = try cli.run([
            "transcribe", file, "--vocabulary", temp + "/words.txt", "--engine", "command", "--command", "\(script) {input} {vocabulary}",
        ])
        #expect(run.status == 0 && run.stdout.contains("Zorvex Kerkhoven"), "\(run.stdout) \(run.stderr)")
        let pending = try cli.run(["transcribe", "--pending", "--vocabulary", temp + "/words.txt"])
        #expect(pending.status != 0 && pending.stderr.contains("tenant's vocabulary"), "\(pending.stderr)")
    }
}
