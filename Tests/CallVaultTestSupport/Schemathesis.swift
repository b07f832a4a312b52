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

    /// The Python of schemathesis's venv (it has `jsonschema_rs`, a JSON Schema 2020-12 validator), if
    /// schemathesis is installed.
    public static func python() -> String? {
        program().map { URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("python").path }
    }

    static let webhookValidator = #"""
        import json, sys, jsonschema_rs
        document = json.load(open(sys.argv[1]))
        for item in json.load(open(sys.argv[2])):
            root = dict(document)
            root["$ref"] = "#/webhooks/" + item["type"] + "/post/requestBody/content/application~1json/schema"
            if item["type"] not in document.get("webhooks", {}):
                print("undocumented " + item["type"]); continue
            validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
            errors = [error.message for error in validator.iter_errors(json.loads(item["body"]))]
            print(("ok " if not errors else "invalid ") + item["type"] + ("" if not errors else ": " + "; ".join(errors)))
        """#

    /// Validates webhook bodies against the `webhooks` of an OpenAPI document: one line per body, `ok TYPE`
    /// or `invalid TYPE: WHY` (or `undocumented TYPE`); nil when schemathesis's venv is missing.
    public static func validateWebhooks(_ bodies: [(type: String, body: String)], document: String) throws -> [String]? {
        guard let python = python() else { return nil }
        let directory = try TemporaryDirectory("webhook-schemas")
        defer { directory.remove() }
        let input = directory.appending("bodies.json")
        try JSONSerialization.data(withJSONObject: bodies.map { ["type": $0.type, "body": $0.body] })
            .write(to: URL(fileURLWithPath: input))
        let script = directory.appending("validate.py")
        try Data(webhookValidator.utf8).write(to: URL(fileURLWithPath: script))
        let output = try ChildProcess.run(URL(fileURLWithPath: python), [script, document, input], timeout: .seconds(60))
        guard output.status == 0 else { throw ChildProcessError("webhook schema check failed: \(output.stderr.suffix(2_000))") }
        return output.stdout.split(separator: "\n").map(String.init)
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
