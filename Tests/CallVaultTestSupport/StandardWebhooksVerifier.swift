import Foundation

/// Verifies webhook requests with an independent implementation of the Standard Webhooks signature:
/// PyPI's `standardwebhooks` (the specification's reference library), installed by
/// `scripts/services install standardwebhooks`. Its `Webhook(secret).verify(body, headers)` checks the
/// `v1,` signatures and the timestamp tolerance; this returns each request's verified `type`.
public enum StandardWebhooksVerifier {
    static let script = #"""
        import json, sys
        from standardwebhooks.webhooks import Webhook
        secret, path = sys.argv[1], sys.argv[2]
        hook = Webhook(secret)
        for item in json.load(open(path)):
            try:
                event = hook.verify(item["body"], item["headers"])
                print("ok " + event["type"])
            except Exception as error:
                print("refused " + type(error).__name__)
        """#

    /// A Python that can import standardwebhooks (`CALLVAULT_TEST_STANDARDWEBHOOKS_PYTHON`, or the venv
    /// `scripts/services install standardwebhooks` makes), or nil.
    public static func python() -> String? {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        for case let candidate? in [
            environment["CALLVAULT_TEST_STANDARDWEBHOOKS_PYTHON"],
            cache + "/callvault/standardwebhooks/venv/bin/python",
        ] where FileManager.default.isExecutableFile(atPath: candidate) {
            if (try? ChildProcess.run(
                URL(fileURLWithPath: candidate),
                ["-c", "import standardwebhooks"],
                timeout: .seconds(30)
            ).status) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// For each request: `ok TYPE` when a signature verifies under `secret` (`whsec_…`), `refused REASON`
    /// otherwise; nil when the library is missing (the caller skips loudly or fails, per ``Services``).
    public static func verify(_ requests: [LocalHTTPServer.Request], secret: String) throws -> [String]? {
        guard let python = python() else { return nil }
        let directory = try TemporaryDirectory("standardwebhooks")
        defer { directory.remove() }
        let items: [[String: Any]] = requests.map { request in
            ["body": String(decoding: request.body, as: UTF8.self), "headers": request.headers]
        }
        let input = directory.appending("requests.json")
        try JSONSerialization.data(withJSONObject: items).write(to: URL(fileURLWithPath: input))
        let scriptPath = directory.appending("verify.py")
        try Data(script.utf8).write(to: URL(fileURLWithPath: scriptPath))
        let output = try ChildProcess.run(
            URL(fileURLWithPath: python),
            [scriptPath, secret, input],
            timeout: .seconds(60)
        )
        guard output.status == 0 else {
            throw ChildProcessError("standardwebhooks verifier failed: \(output.stderr.suffix(500))")
        }
        return output.stdout.split(separator: "\n").map(String.init)
    }

    /// Records the missing library as a test failure, or prints a loud skip under `CALLVAULT_SKIP_SERVICES=1`.
    public static func reportMissing(_ what: String) -> String {
        let message =
            "standardwebhooks is missing: run scripts/services install standardwebhooks (or set CALLVAULT_SKIP_SERVICES=1) — \(what)"
        if !Services.required {
            print("⚠️  SKIPPED: \(what) — standardwebhooks is not installed and CALLVAULT_SKIP_SERVICES=1")
        }
        return message
    }
}
