import CallVaultCrypto
import CallVaultModel
import CallVaultTestSupport
import Foundation
import Logging
import Testing

@testable import CallVaultStore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct RootKeyTests {
    @Test func createsPrivateFileOf32RandomBytes() throws {
        let temp = try TemporaryDirectory()
        let path = temp.path + "/root.key"
        let rootKey = FileRootKey(path: path)
        #expect(try rootKey.create() == true)
        #expect(mode(of: path) == 0o600)
        let onDisk = try #require(fileBytes(path))
        #expect(onDisk.count == 32)
        #expect(onDisk != [UInt8](repeating: 0, count: 32))
        let loaded = try rootKey.loadRootKey()
        #expect(loaded.count == 32)
        #expect(bytes(of: loaded) == onDisk)

        let other = temp.path + "/other.key"
        try FileRootKey(path: other).create()
        #expect(fileBytes(other) != onDisk, "two root keys must differ (random, not constant)")
    }

    @Test func neverOverwritesAnExistingKey() throws {
        let temp = try TemporaryDirectory()
        let path = temp.path + "/root.key"
        try FileRootKey(path: path).create()
        let before = try #require(fileBytes(path))
        #expect(try FileRootKey(path: path).create() == false)
        #expect(fileBytes(path) == before)
    }

    @Test func refusesGroupOrOtherReadableKeyAndNamesTheFix() throws {
        let temp = try TemporaryDirectory()
        let path = temp.path + "/root.key"
        try FileRootKey(path: path).create()
        let before = try #require(fileBytes(path))
        for bits: mode_t in [0o644, 0o640, 0o604, 0o660] {
            #expect(chmod(path, bits) == 0)
            do {
                _ = try FileRootKey(path: path).loadRootKey()
                Issue.record("mode \(String(bits, radix: 8)) was accepted")
            } catch {
                #expect(error.code == .rootKeyInsecure)
                #expect(error.message.contains("chmod 600 \(path)"))
                #expect(error.message.contains(path))
            }
            // `init` again must neither accept nor overwrite it.
            #expect(errorCode { try FileRootKey(path: path).create() } == .rootKeyInsecure)
            #expect(fileBytes(path) == before)
        }
    }

    @Test(arguments: [0, 16, 31, 33, 64])
    func refusesWrongSize(size: Int) throws {
        let temp = try TemporaryDirectory()
        let path = temp.path + "/root.key"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 7, count: size)))
        #expect(chmod(path, 0o600) == 0)
        do {
            _ = try FileRootKey(path: path).loadRootKey()
            Issue.record("a \(size)-byte root key was accepted")
        } catch {
            #expect(error.code == .rootKeyCorrupt)
            #expect(error.message.contains("not 32"))
        }
        #expect(errorCode { try FileRootKey(path: path).create() } == .rootKeyCorrupt)
        #expect(fileBytes(path)?.count == size, "create() must not replace a bad key file")
    }

    @Test func refusesSymlinkEvenToAValidKey() throws {
        let temp = try TemporaryDirectory()
        let real = temp.path + "/real.key"
        try FileRootKey(path: real).create()
        let link = temp.path + "/root.key"
        #expect(symlink(real, link) == 0)
        do {
            _ = try FileRootKey(path: link).loadRootKey()
            Issue.record("a symlinked root key was accepted")
        } catch {
            #expect(error.code == .rootKeyInsecure)
            #expect(error.message.contains("symlink"))
        }
        #expect(errorCode { try FileRootKey(path: link).create() } == .rootKeyInsecure)
    }

    @Test func refusesDirectoryAndReportsMissing() throws {
        let temp = try TemporaryDirectory()
        let missing = temp.path + "/root.key"
        do {
            _ = try FileRootKey(path: missing).loadRootKey()
            Issue.record("a missing root key was loaded")
        } catch {
            #expect(error.code == .rootKeyMissing)
            #expect(error.message.contains("callvault init"))
        }
        #expect(mkdir(missing, 0o700) == 0)
        #expect(errorCode { try FileRootKey(path: missing).loadRootKey() } == .rootKeyInsecure)
    }

    @Test(.enabled(if: geteuid() == 0, "chown to another uid needs root"))
    func refusesKeyOwnedBySomeoneElse() throws {
        let temp = try TemporaryDirectory()
        let path = temp.path + "/root.key"
        try FileRootKey(path: path).create()
        #expect(chown(path, 65534, 65534) == 0)
        do {
            _ = try FileRootKey(path: path).loadRootKey()
            Issue.record("a root key owned by uid 65534 was accepted")
        } catch {
            #expect(error.code == .rootKeyInsecure)
            #expect(error.message.contains("owned by uid 65534"))
        }
    }

    @Test func dataDirectoryIsPrivateAndLaidOut() throws {
        let temp = try TemporaryDirectory()
        let directory = DataDirectory(path: temp.path + "/data/")
        #expect(try directory.create() == true)
        #expect(try directory.create() == false)
        #expect(mode(of: directory.path) == 0o700)
        #expect(mode(of: directory.recordingsPath) == 0o700)
        #expect(directory.rootKeyPath == temp.path + "/data/root.key")
        #expect(directory.keyStorePath == temp.path + "/data/keys.sqlite")
        #expect(directory.catalogPath == temp.path + "/data/catalog.sqlite")
        let day = try CalendarDay("2026-11-22")
        let folder = try directory.makeRecordingDirectory(tenantID: "acme", day: day)
        #expect(folder == temp.path + "/data/recordings/acme/2026-11-22")
        #expect(mode(of: folder) == 0o700)
        #expect(mode(of: temp.path + "/data/recordings/acme") == 0o700)
        #expect(errorCode { try directory.recordingDirectory(tenantID: "../etc", day: day) } == .invalidIdentifier)

        let absent = DataDirectory(path: temp.path + "/absent")
        #expect(errorCode { try absent.checkPrivate() } == .directoryMissing)
        #expect(errorCode { try KeyStore(dataDirectory: absent, logger: Logger(label: "test")) } == .directoryMissing)

        let open = DataDirectory(path: temp.path + "/open")
        #expect(mkdir(open.path, 0o755) == 0)
        #expect(chmod(open.path, 0o755) == 0)
        do {
            try open.create()
            Issue.record("a 0755 data directory was accepted")
        } catch {
            #expect(error.code == .directoryInsecure)
            #expect(error.message.contains("chmod 700 \(open.path)"))
        }
    }

    @Test func coreDumpsCanBeDisabled() throws {
        #expect(ProcessHardening.disableCoreDumps())
        var limit = rlimit()
        #expect(getrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit) == 0)
        #expect(limit.rlim_cur == 0)
        #expect(limit.rlim_max == 0)
        // Asked of the kernel independently of the function's own answer: PR_GET_DUMPABLE (3) is 0.
        let symbol = try #require(dlsym(dlopen(nil, RTLD_NOW), "prctl"))
        typealias Prctl = @convention(c) (CInt, UInt, UInt, UInt, UInt) -> CInt
        #expect(unsafeBitCast(symbol, to: Prctl.self)(3, 0, 0, 0, 0) == 0)
        // Idempotent: the long-running commands may call it again.
        #expect(ProcessHardening.disableCoreDumps())
    }
}
