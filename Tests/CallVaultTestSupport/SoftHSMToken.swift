import Foundation

/// A SoftHSM2 token for tests: a private token directory and configuration, one token initialized with
/// `softhsm2-util`, and `SOFTHSM2_CONF` set in this process before any module loads it.
///
/// One per test process (SoftHSM reads its configuration once, when the module is first initialized);
/// tests keep apart by giving their keys unique names.
public enum SoftHSMToken {
    /// The Debian package's module.
    public static let modulePath = "/usr/lib/softhsm/libsofthsm2.so"
    public static let label = "callvault-test"
    /// A second token that no test logs in to with the right PIN (PKCS#11 login is per token and
    /// process, so a wrong PIN is only refused on a token not logged in yet).
    public static let otherLabel = "callvault-test-2"
    public static let pin = "2222"

    /// Whether SoftHSM2 is installed (`scripts/services install` installs it).
    public static var isInstalled: Bool {
        FileManager.default.fileExists(atPath: modulePath) && FileManager.default.isExecutableFile(atPath: util)
    }

    /// Why a test that needs the token cannot run, or nil when it can.
    public static var unavailableReason: String? {
        isInstalled ? nil : "SoftHSM2 is not installed (run scripts/services install, or set CALLVAULT_SKIP_SERVICES=1)"
    }

    static let util = "/usr/bin/softhsm2-util"

    /// Creates the token once; returns its configuration file. Throws with softhsm2-util's output.
    public static func prepare() throws -> String { try prepared.get() }

    private static let prepared: Result<String, any Error> = Result {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("callvault-softhsm-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(
            atPath: directory + "/tokens", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let conf = directory + "/softhsm2.conf"
        try """
            directories.tokendir = \(directory)/tokens
            objectstore.backend = file
            log.level = ERROR
            slots.removable = false
            """.write(toFile: conf, atomically: true, encoding: .utf8)
        for token in [label, otherLabel] {
            let output = try ChildProcess.run(
                URL(fileURLWithPath: util), ["--init-token", "--free", "--label", token, "--so-pin", "1111", "--pin", pin],
                environment: ["SOFTHSM2_CONF": conf], timeout: .seconds(60))
            guard output.status == 0, !output.signalled else {
                throw ChildProcessError("softhsm2-util --init-token failed: \(output.stderr) \(output.stdout)")
            }
        }
        setenv("SOFTHSM2_CONF", conf, 1)
        return conf
    }
}
