import Foundation
import Logging
import CallVaultStore
import Testing

/// The catalog commands of CLI.md, run as a child process: JSON on stdout, one error line on
/// stderr, exit 1 for a failed operation and 2 for bad usage.
@Suite(.timeLimit(.minutes(15))) struct CatalogCommandTests {
    private func withCLI(_ body: (CatalogCLIProcess) throws -> Void) throws {
        let executable = try #require(
            CatalogCLIProcess.executable(),
            "the callvault executable was not found beside the tests; build it first"
        )
        let directory = NSTemporaryDirectory() + "callvault-cli-tests-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: directory)
        #expect(try cli.run(["init"]).status == 0)
        try body(cli)
    }

    @Test func catalogCommandsRefuseADirectoryThatWasNeverInitialised() throws {
        let executable = try #require(CatalogCLIProcess.executable())
        let directory = NSTemporaryDirectory() + "callvault-cli-tests-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cli = CatalogCLIProcess(executable: executable, dataDirectory: directory)
        let commands: [[String]] = [
            ["tenant", "list"], ["tenant", "add", "acme"], ["tenant", "show", "t1"], ["tenant", "set", "t1"],
            ["calls", "list"], ["recordings", "list"], ["audit", "list"], ["audit", "verify"],
            ["verify", "some-recording-id"], ["verify", "--all", "--json"],
        ]
        for command in commands {
            let result = try cli.run(command)
            #expect(result.status == 1, "\(command)")
            #expect(result.stdout.isEmpty, "\(command)")
            // One line, the CLI.md form, naming the fix.
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(command): \(result.stderr)")
            #expect(result.stderr.hasPrefix("callvault: error: "), "\(command)")
            #expect(result.stderr.contains("run `callvault init`"), "\(command): \(result.stderr)")
            #expect(result.stderr.hasSuffix(")\n"), "\(command)")
        }
        // Nothing was created, not even the directory.
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    @Test func tenantAddCreatesTheTenantsKey() throws {
        try withCLI { cli in
            let added = try cli.run(["tenant", "add", "keyed", "--json"])
            let id = try #require(try added.json()["id"] as? String)
            let store = try KeyStore(dataDirectory: DataDirectory(path: cli.dataDirectory), logger: Logger(label: "test"))
            #expect(try store.hasTenant(id))
        }
    }

    @Test func tenantAddPrintsTheTokenOnceAndStoresOnlyItsHash() throws {
        try withCLI { cli in
            let added = try cli.run(["tenant", "add", "acme", "--voice-days", "30", "--consent", "opt-out", "--json"])
            #expect(added.status == 0, "\(added.stderr)")
            let json = try added.json()
            let token = try #require(json["token"] as? String)
            let id = try #require(json["id"] as? String)
            #expect(token.hasPrefix("cvt_"))
            #expect(json["name"] as? String == "acme")
            #expect(json["voiceDays"] as? Int == 30)
            #expect(json["consentMode"] as? String == "opt-out")
            #expect(json["transcriptDays"] as? Int == 365)
            #expect(json["codec"] as? String == "native")

            var stored = Data()
            for suffix in ["", "-wal"] {
                stored += FileManager.default.contents(atPath: cli.dataDirectory + "/catalog.sqlite" + suffix) ?? Data()
            }
            #expect(!stored.isEmpty)
            #expect(stored.range(of: Data(token.utf8)) == nil)

            let shown = try cli.run(["tenant", "show", id, "--json"])
            #expect(shown.status == 0)
            #expect(try shown.json()["token"] == nil)
            #expect(!shown.stdout.contains(token))
            let listed = try cli.run(["tenant", "list", "--json"])
            #expect((try listed.json()["tenants"] as? [[String: Any]])?.count == 1)
            #expect(!listed.stdout.contains(token))
        }
    }

    @Test func voiceDaysOver90IsABadUsageErrorOnOneLine() throws {
        try withCLI { cli in
            let refused = try cli.run(["tenant", "add", "greedy", "--voice-days", "91"])
            #expect(refused.status == 2)
            #expect(refused.stdout.isEmpty)
            let lines = refused.stderr.split(separator: "\n")
            #expect(lines.count == 1)
            #expect(lines.first?.hasPrefix("callvault: error: ") == true)
            #expect(refused.stderr.contains("90"))
            #expect(refused.stderr.hasSuffix(")\n"))

            let badMode = try cli.run(["tenant", "add", "x", "--consent", "maybe"])
            #expect(badMode.status == 2)
            #expect(badMode.stderr.hasPrefix("callvault: error: unknown consent mode"))
        }
    }

    @Test func tenantSetChangesOnlyTheGivenFlags() throws {
        try withCLI { cli in
            let id = try #require(
                try cli.run(["tenant", "add", "acme", "--consent-digit", "1", "--json"]).json()["id"] as? String
            )
            let changed = try cli.run(["tenant", "set", id, "--voice-days", "14", "--codec", "opus", "--json"])
            #expect(changed.status == 0, "\(changed.stderr)")
            let json = try changed.json()
            #expect(json["voiceDays"] as? Int == 14)
            #expect(json["codec"] as? String == "opus")
            #expect(json["consentDigit"] as? String == "1")
            #expect(json["consentMode"] as? String == "opt-in")

            let missing = try cli.run(["tenant", "set", "nope", "--voice-days", "14"])
            #expect(missing.status == 1)
            #expect(missing.stderr.hasPrefix("callvault: error: no tenant with id nope"))
        }
    }

    @Test func listingsAndAuditVerifyPrintOneJSONDocument() throws {
        try withCLI { cli in
            _ = try cli.run(["tenant", "add", "a"])
            _ = try cli.run(["tenant", "add", "b"])
            let calls = try cli.run(["calls", "list", "--json"])
            #expect(calls.status == 0)
            #expect((try calls.json()["calls"] as? [Any])?.isEmpty == true)
            let recordings = try cli.run(["recordings", "list", "--json"])
            #expect((try recordings.json()["recordings"] as? [Any])?.isEmpty == true)

            let entries = try cli.run(["audit", "list", "--json"])
            let list = try #require(try entries.json()["entries"] as? [[String: Any]])
            #expect(list.map { $0["action"] as? String } == ["tenant.created", "tenant.created"])
            #expect(list.map { $0["seq"] as? Int } == [1, 2])

            let verified = try cli.run(["audit", "verify", "--json"])
            #expect(verified.status == 0)
            let result = try verified.json()
            #expect(result["status"] as? String == "ok")
            #expect(result["entries"] as? Int == 2)
            #expect(result["headHash"] as? String == list.last?["hash"] as? String)
        }
    }

    @Test func auditVerifyExitsOneWhenTheFileWasEditedBehindItsBack() throws {
        try withCLI { cli in
            #expect(try cli.run(["tenant", "add", "a", "--voice-days", "30"]).status == 0)
            #expect(try cli.run(["tenant", "add", "b"]).status == 0)
            #expect(try cli.run(["audit", "verify"]).status == 0)

            // The CLI has exited, so SQLite checkpointed its WAL into the main file. Change the first
            // entry's details in the file's bytes, bypassing SQLite and its triggers altogether.
            let path = cli.dataDirectory + "/catalog.sqlite"
            var bytes = try #require(FileManager.default.contents(atPath: path))
            let original = Data(#""voiceDays":"30""#.utf8)
            let range = try #require(bytes.range(of: original), "the audit details were not found in the file")
            bytes.replaceSubrange(range, with: Data(#""voiceDays":"31""#.utf8))
            try bytes.write(to: URL(fileURLWithPath: path))

            let broken = try cli.run(["audit", "verify"])
            #expect(broken.status == 1)
            #expect(broken.stderr.hasPrefix("callvault: error: audit log broken at entry 1"))
            let json = try cli.run(["audit", "verify", "--json"])
            #expect(json.status == 1)
            let result = try json.json()
            #expect(result["status"] as? String == "broken")
            #expect(result["seq"] as? Int == 1)
            #expect(result["reason"] as? String == "edited")
        }
    }
}

extension CatalogCommandTests {
    @Test func aTenantsTranscriptModelMustBeAWhisperModelDirectoryAndDefaultClearsIt() throws {
        try withCLI { cli in
            let models = cli.dataDirectory + "-models"
            defer { try? FileManager.default.removeItem(atPath: models) }
            // A CTranslate2 Whisper model's layout (the files' contents are the sidecar's business).
            let model = models + "/small"
            let notAModel = models + "/notes"
            for (directory, files) in [(model, ["model.bin", "config.json", "tokenizer.json", "vocabulary.txt"]), (notAModel, ["config.json"])] {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                for file in files { #expect(FileManager.default.createFile(atPath: directory + "/" + file, contents: Data())) }
            }

            let refused = try cli.run(["tenant", "add", "acme", "--transcript-model", notAModel])
            #expect(refused.status == 2 && refused.stdout.isEmpty)
            #expect(
                refused.stderr.hasPrefix("callvault: error: \(notAModel) is not a CTranslate2 Whisper model directory: "
                    + "no readable model.bin, tokenizer.json, vocabulary.json or vocabulary.txt;"), "\(refused.stderr)")
            #expect(refused.stderr.contains("--transcript-model default") && refused.stderr.split(separator: "\n").count == 1)
            let missing = try cli.run(["tenant", "add", "acme", "--transcript-model", models + "/nope"])
            #expect(missing.status == 2 && missing.stderr.contains("does not exist"), "\(missing.stderr)")
            #expect((try cli.run(["tenant", "list", "--json"]).json()["tenants"] as? [Any])?.isEmpty == true)

            // A relative directory is stored absolute.
            let added = try cli.run(["tenant", "add", "acme", "--transcript-model", "small", "--json"], in: models)
            #expect(added.status == 0, "\(added.stderr)")
            let id = try #require(try added.json()["id"] as? String)
            #expect(try added.json()["transcriptModel"] as? String == model)
            func modelLine(_ id: String) throws -> String? {
                try cli.run(["tenant", "show", id]).stdout.split(separator: "\n").first { $0.hasPrefix("transcript-model ") }
                    .map { $0.dropFirst("transcript-model".count).trimmingCharacters(in: .whitespaces) }
            }
            #expect(try modelLine(id) == model)
            #expect(try cli.run(["tenant", "list"]).stdout.contains(model))

            let cleared = try cli.run(["tenant", "set", id, "--transcript-model", "default", "--json"])
            #expect(cleared.status == 0, "\(cleared.stderr)")
            let json = try cleared.json()
            #expect(json.keys.contains("transcriptModel") && json["transcriptModel"] is NSNull)
            #expect(try modelLine(id) == "default (the run's)")
            let audit = try cli.run(["audit", "list", "--json"]).json()["entries"] as? [[String: Any]] ?? []
            let change = try #require(audit.last { $0["action"] as? String == "tenant.policy_changed" })
            #expect((change["details"] as? [String: Any])?["changed"] as? String == "transcriptModel", "\(change)")
        }
    }
}
