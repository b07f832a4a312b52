import CallVaultStore
import CallVaultTestSupport
import Foundation
import Testing

/// Redaction through the real `callvault` binary: `tenant add|set --redact`, `transcribe FILE --redact`,
/// and a queued call of a redacting tenant shown by `transcripts show` in every format.
@Suite(.timeLimit(.minutes(15))) struct RedactionCLITests {
    /// A stand-in engine that answers `verbose_json` with word timings: the caller reads a card number and
    /// an e-mail address.
    static let engineOutput = """
        {"segments":[
          {"start":0,"end":2.6,"text":"my card number is 4111 1111 1111 1111","words":[
            {"word":"my","start":0,"end":0.2},{"word":"card","start":0.3,"end":0.5},
            {"word":"number","start":0.6,"end":0.8},{"word":"is","start":0.9,"end":1.1},
            {"word":"4111","start":1.2,"end":1.4},{"word":"1111","start":1.5,"end":1.7},
            {"word":"1111","start":1.8,"end":2.0},{"word":"1111","start":2.1,"end":2.3}]},
          {"start":3,"end":6,"text":"email jan dot devries at gmail dot com","words":[
            {"word":"email","start":3.0,"end":3.2},{"word":"jan","start":3.3,"end":3.5},
            {"word":"dot","start":3.6,"end":3.8},{"word":"devries","start":3.9,"end":4.1},
            {"word":"at","start":4.2,"end":4.4},{"word":"gmail","start":4.5,"end":4.7},
            {"word":"dot","start":4.8,"end":5.0},{"word":"com","start":5.1,"end":5.3}]}
        ]}
        """
    /// What must not survive: the digit groups as text or as JSON words (quoted, so an id or hash that
    /// happens to hold "1111" is no false alarm), and the address's parts.
    static let values = ["4111 1111", "1111 1111", "\"4111\"", "\"1111\"", "devries", "gmail"]

    private struct Setup {
        let temp: String
        let cli: CatalogCLIProcess
        let engine: [String]
    }

    private func withSetup(_ body: (Setup) throws -> Void) throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let temp = NSTemporaryDirectory() + "cv-redact-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        try Self.engineOutput.write(toFile: temp + "/answer.json", atomically: true, encoding: .utf8)
        let script = temp + "/engine.sh"
        try "#!/bin/sh\ncat '\(temp)/answer.json'\n".write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: script)
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: temp + "/data")
        try body(Setup(temp: temp, cli: cli, engine: ["--engine", "command", "--command", "\(script) {input}"]))
    }

    @Test func tenantAddAndSetTakeTheRedactListAndRefuseABadOneByName() throws {
        try withSetup { setup in
            let cli = setup.cli
            #expect(try cli.run(["init"]).status == 0)
            let plain = try cli.run(["tenant", "add", "plain", "--json"])
            #expect(try plain.json()["redact"] as? [String] == [], "tenant add keeps none unless given")
            let added = try cli.run(["tenant", "add", "acme", "--redact", "contact,pci", "--json"])
            #expect(added.status == 0, "\(added.stderr)")
            let id = try #require(try added.json()["id"] as? String)
            #expect(try added.json()["redact"] as? [String] == ["pci", "contact"])
            let shown = try cli.run(["tenant", "show", id])
            let row = shown.stdout.split(separator: "\n").first { $0.hasPrefix("redact ") }
            #expect(row?.hasSuffix(" pci,contact") == true, "\(shown.stdout)")

            let bad = try cli.run(["tenant", "set", id, "--redact", "pci,cards"])
            #expect(
                bad.status == 2 && bad.stderr.contains("\"cards\"") && bad.stderr.contains("--redact"),
                "\(bad.stderr)"
            )
            let mixed = try cli.run(["tenant", "add", "other", "--redact", "none,bank"])
            #expect(mixed.status == 2 && mixed.stderr.contains("none"), "\(mixed.stderr)")
            #expect(
                try cli.run(["tenant", "show", id, "--json"]).json()["redact"] as? [String] == ["pci", "contact"],
                "unchanged"
            )

            let cleared = try cli.run(["tenant", "set", id, "--redact", "none", "--json"])
            #expect(cleared.status == 0, "\(cleared.stderr)")
            #expect(try cleared.json()["redact"] as? [String] == [])
            let audit = try cli.run(["audit", "list", "--json"])
            #expect(audit.stdout.contains("redact"), "the policy change is audited with the field")
        }
    }

    @Test func transcribeAFileWithRedactPrintsPlaceholdersInEveryFormat() throws {
        try withSetup { setup in
            let file = TranscribePendingTests.samples + "/answer.ulaw.wav"
            let plain = try setup.cli.run(["transcribe", file] + setup.engine)
            #expect(plain.status == 0 && plain.stdout.contains("4111 1111"), "without --redact the words are as heard")
            for format in ["text", "json", "srt", "vtt"] {
                let run = try setup.cli.run(
                    ["transcribe", file, "--redact", "pci,contact", "--format", format] + setup.engine
                )
                #expect(run.status == 0, "\(format): \(run.stderr)")
                #expect(run.stdout.contains("[CARD]") && run.stdout.contains("[EMAIL]"), "\(format): \(run.stdout)")
                for value in Self.values { #expect(!run.stdout.contains(value), "\(format) shows \(value)") }
                for value in Self.values { #expect(!run.stderr.contains(value), "\(format) logs \(value)") }
                if format == "json" {
                    #expect(run.stdout.contains("\"redactions\"") && run.stdout.contains("cardNumber"))
                }
            }
            let bad = try setup.cli.run(["transcribe", file, "--redact", "cards"] + setup.engine)
            #expect(bad.status == 2 && bad.stderr.contains("\"cards\""), "\(bad.stderr)")
            let pending = try setup.cli.run(["transcribe", "--pending", "--redact", "pci"] + setup.engine)
            #expect(pending.status == 2 && pending.stderr.contains("tenant"), "\(pending.stderr)")
        }
    }

    @Test func aQueuedCallOfARedactingTenantIsShownWithPlaceholdersInEveryFormat() throws {
        try withSetup { setup in
            let cli = setup.cli
            let data = setup.temp + "/data"
            #expect(try cli.run(["init"]).status == 0)
            let call = try #require(try RecordedCalls.record(1, in: data, tenant: "bank").first)
            let tenant = try #require(try Catalog(directory: data).tenants().first { $0.name == "bank" })
            #expect(try cli.run(["tenant", "set", tenant.id, "--redact", "pci,bank,contact,ids"]).status == 0)

            let run = try cli.run(["transcribe", "--pending", "--format", "json"] + setup.engine)
            #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
            #expect(try run.json()["done"] as? Int == 1, "\(run.stdout)")
            for value in Self.values { #expect(!run.stderr.contains(value) && !run.stdout.contains(value)) }
            for format in ["text", "json", "srt", "vtt"] {
                let shown = try cli.run(["transcripts", "show", "--call", call, "--format", format])
                #expect(shown.status == 0, "\(format): \(shown.stderr)")
                #expect(
                    shown.stdout.contains("[CARD]") && shown.stdout.contains("[EMAIL]"),
                    "\(format): \(shown.stdout)"
                )
                for value in Self.values { #expect(!shown.stdout.contains(value), "\(format) shows \(value)") }
                if format == "json" {
                    #expect(shown.stdout.contains("\"redactions\"") && shown.stdout.contains("\"email\""))
                    #expect(shown.stdout.contains(#""detectorVersion""#))
                }
            }
            let audit = try cli.run(["audit", "list", "--json"])
            #expect(audit.stdout.contains("cardNumber:1,email:1"), "counts per kind in transcript.created")
            for value in Self.values { #expect(!audit.stdout.contains(value), "the audit log holds \(value)") }
        }
    }

    @Test func redactCallRedactsACallTranscribedBeforeThePolicyInTextAndVoice() throws {
        try withSetup { setup in
            let cli = setup.cli
            let data = setup.temp + "/data"
            #expect(try cli.run(["init"]).status == 0)
            let call = try #require(try RecordedCalls.record(1, in: data, tenant: "late").first)
            let tenant = try #require(try Catalog(directory: data).tenants().first { $0.name == "late" })
            let run = try cli.run(["transcribe", "--pending", "--format", "json"] + setup.engine)
            #expect(run.status == 0, "\(run.stderr)")
            let before = try cli.run(["transcripts", "show", "--call", call])
            #expect(before.stdout.contains("4111 1111"), "no policy yet: the words are kept")

            let noPolicy = try cli.run(["redact", "--call", call])
            #expect(noPolicy.status == 1 && noPolicy.stderr.contains("--redact"), "\(noPolicy.stderr)")
            #expect(try cli.run(["tenant", "set", tenant.id, "--redact", "pci,contact"]).status == 0)
            let redacted = try cli.run(["redact", "--call", call, "--json"])
            #expect(redacted.status == 0, "\(redacted.stderr)")
            let report = try redacted.json()
            #expect(report["resealedTranscript"] as? String != nil, "\(redacted.stdout)")
            #expect((report["newSpans"] as? Int ?? 0) >= 2, "\(redacted.stdout)")
            let audio = try #require(report["audio"] as? [String: Any])
            #expect((audio["redacted"] as? [Any])?.count == 1, "the one recorded track: \(redacted.stdout)")
            for value in Self.values { #expect(!redacted.stdout.contains(value) && !redacted.stderr.contains(value)) }

            let after = try cli.run(["transcripts", "show", "--call", call])
            #expect(after.stdout.contains("[CARD]") && after.stdout.contains("[EMAIL]"), "\(after.stdout)")
            for value in Self.values { #expect(!after.stdout.contains(value), "shows \(value)") }
            let catalog = try Catalog(directory: data)
            let recordings = try catalog.recordings(inCalls: [catalog.transcripts(tenantID: tenant.id, limit: 10).first?.callId ?? ""])
            #expect(recordings.filter { $0.state == .shredded }.count == 1 && recordings.count == 2)
            #expect(recordings.filter { $0.state != .shredded }.allSatisfy { $0.redaction?.verification == .passed })
            #expect(try catalog.transcripts(tenantID: tenant.id, limit: 10).filter { $0.state == .shredded }.count == 1)

            let again = try cli.run(["redact", "--call", call])
            #expect(again.status == 0 && again.stdout.contains("transcript unchanged"), "\(again.stdout)")
            #expect(again.stdout.contains("already redacted"), "\(again.stdout)")
            let unknown = try cli.run(["redact", "--call", "no-such-call"])
            #expect(unknown.status == 1 && unknown.stderr.contains("no call no-such-call"), "\(unknown.stderr)")
        }
    }
}
