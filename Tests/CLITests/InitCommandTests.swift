import ArgumentParser
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

@testable import callvault

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct InitCommandTests {
    /// A fresh directory under /tmp; removed at the end of the test.
    private func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
        let path = try TemporaryDirectory.make("cli-test")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    @Test func initCreatesEverythingOnceAndNeverOverwritesTheRootKey() throws {
        try withTemporaryDirectory { temp in
            let directory = DataDirectory(path: temp + "/data")
            let first = try InitCommand.initialize(directory, logger: Logger(label: "test"))
            #expect(first.created == .init(dataDirectory: true, rootKey: true, keyStore: true))
            let key = try #require(FileManager.default.contents(atPath: directory.rootKeyPath))
            #expect(key.count == 32)
            var info = stat()
            #expect(stat(directory.rootKeyPath, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
            #expect(stat(directory.path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o700)
            #expect(FileManager.default.fileExists(atPath: directory.keyStorePath))

            let second = try InitCommand.initialize(directory, logger: Logger(label: "test"))
            #expect(second.created == .init(dataDirectory: false, rootKey: false, keyStore: false))
            #expect(FileManager.default.contents(atPath: directory.rootKeyPath) == key)
        }
    }

    @Test func initRefusesAnExposedRootKeyWithAHint() throws {
        try withTemporaryDirectory { temp in
            let directory = DataDirectory(path: temp + "/data")
            _ = try InitCommand.initialize(directory, logger: Logger(label: "test"))
            let key = FileManager.default.contents(atPath: directory.rootKeyPath)
            #expect(chmod(directory.rootKeyPath, 0o644) == 0)
            do {
                _ = try InitCommand.initialize(directory, logger: Logger(label: "test"))
                Issue.record("init accepted a 0644 root key")
            } catch let error as KeyStoreError {
                let report = CLIError(error)
                #expect(report.exitCode == 1)
                #expect(report.line.hasPrefix("callvault: error: root key \(directory.rootKeyPath)"))
                #expect(report.line.contains("chmod 600 \(directory.rootKeyPath)"))
            }
            #expect(FileManager.default.contents(atPath: directory.rootKeyPath) == key)
        }
    }

    @Test func initCommandParsesDataAndJSON() throws {
        let command = try InitCommand.parse(["--data", "/srv/cv", "--json"])
        #expect(command.json)
        #expect(try command.dataOptions.directory.path == "/srv/cv")
        #expect(try command.dataOptions.directory.rootKeyPath == "/srv/cv/root.key")
        #expect(throws: (any Error).self) { try InitCommand.parse(["--data", ""]) }
    }

    @Test func dataDirectoryResolvesFlagThenEnvironmentThenDefault() throws {
        let flag = try DataOptions.parse(["--data", "/a"])
        #expect(flag.resolvedPath(environment: ["CALLVAULT_DATA": "/b"]) == "/a")
        let none = try DataOptions.parse([])
        #expect(none.resolvedPath(environment: ["CALLVAULT_DATA": "/b"]) == "/b")
        #expect(none.resolvedPath(environment: ["CALLVAULT_DATA": ""]) == "./callvault-data")
        #expect(none.resolvedPath(environment: [:]) == "./callvault-data")
    }

    @Test func errorsUseTheOneLineFormatAndExitCodes() throws {
        #expect(CLIError.failure("x broke", hint: "do y").line == "callvault: error: x broke (do y)")
        #expect(CLIError.failure("x broke").line == "callvault: error: x broke")
        #expect(CLIError.usage("bad flag").exitCode == 2)
        #expect(CLIError.failure("x").exitCode == 1)
        let missing = CLIError(KeyStoreError(.rootKeyMissing, "root key /d/root.key does not exist"))
        #expect(missing.line.contains("callvault init"))
        // ArgumentParser's usage errors are what `exitReporting` maps to exit 2.
        do {
            _ = try CallVaultCommand.parseAsRoot(["init", "--bogus"])
            Issue.record("an unknown option parsed")
        } catch {
            #expect(CallVaultCommand.exitCode(for: error) == .validationFailure)
        }
    }
}
