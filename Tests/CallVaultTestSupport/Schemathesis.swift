import Foundation

/// PyPI's `schemathesis`, installed by `scripts/services install schemathesis`: it generates requests
/// from an OpenAPI document, sends them to a live server and checks each answer against the document.
public enum Schemathesis {
    /// The `schemathesis` program (`CALLVAULT_TEST_SCHEMATHESIS`, or the venv `scripts/services install
    /// schemathesis` makes), if it runs; nil otherwise.
    public static func program() -> String? {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        for case let candidate? in [
            environment["CALLVAULT_TEST_SCHEMATHESIS"], cache + "/callvault/schemathesis/venv/bin/schemathesis",
        ] where FileManager.default.isExecutableFile(atPath: candidate) {
            if (try? ChildProcess.run(URL(fileURLWithPath: candidate), ["--version"], timeout: .seconds(60)).status) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// The message for a missing schemathesis: a failure, or a loud skip under `CALLVAULT_SKIP_SERVICES=1`.
    public static func reportMissing(_ what: String) -> String {
        let message =
            "schemathesis is missing: run scripts/services install schemathesis (or set CALLVAULT_SKIP_SERVICES=1) — \(what)"
        if !Services.required {
            print("⚠️  SKIPPED: \(what) — schemathesis is not installed and CALLVAULT_SKIP_SERVICES=1")
        }
        return message
    }
}
