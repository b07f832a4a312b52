import CallVaultTestSupport
import Foundation
import Testing

/// schemathesis (PyPI) against a live `callvault serve`: it reads the document the server serves at
/// `/openapi.json`, generates valid and invalid requests for every operation (examples, coverage,
/// fuzzing, and stateful sequences following the document's links), and checks every answer: no server
/// error, only documented status codes, content types and headers, bodies that match their schemas.
@Suite("The control API against its OpenAPI document (schemathesis)", .serialized, .timeLimit(.minutes(15)))
struct SchemathesisTests {
    /// Every answer conforms (status, content type, headers, body), no 5xx, an undocumented method gets
    /// 405 with `Allow`, a request without the token gets 401, a request the schema forbids gets a 4xx.
    /// Not `positive_data_acceptance`: a `callId` of 200 characters may be more than the 200 bytes the
    /// server takes, which a JSON Schema cannot say.
    static let checks = [
        "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
        "response_schema_conformance", "unsupported_method", "allow_header_conformance", "ignored_auth",
        "negative_data_rejection", "missing_required_header",
    ].joined(separator: ",")

    @Test func aLiveServeAnswersAsDocsOpenAPIJSONSays() throws {
        guard let schemathesis = Schemathesis.program() else {
            let message = Schemathesis.reportMissing("the control API checked against docs/openapi.json")
            if Services.required { Issue.record(Comment(rawValue: message)) }
            return
        }
        let (root, data, token) = try ServeEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // No rate limit and no token throttle here: schemathesis sends hundreds of requests a second from
        // one address, some with made-up tokens, and should reach the handlers rather than the 429s
        // (which ControlAPIHardeningTests checks).
        let server = try ServeProcess(data: data, extra: ["--api-rate", "0", "--api-token-failures", "0"])
        defer { server.terminate() }
        let output = try Self.run(
            schemathesis, schema: "http://127.0.0.1:\(server.port)/openapi.json", token: token, directory: root)
        #expect(output.status == 0, "schemathesis found problems:\n\(output.stdout.suffix(20_000))\n\(output.stderr.suffix(4_000))")
        // It did test every operation (schemathesis leaves out the document's own route, /openapi.json),
        // in every phase that generates requests.
        let tested = output.stdout.split(separator: "\n").compactMap { line -> Int? in
            let text = line.trimmingCharacters(in: .whitespaces)
            return text.hasPrefix("Tested: ") ? Int(text.dropFirst("Tested: ".count)) : nil
        }
        #expect(tested.last == 7, "operations tested: \(tested)\n\(output.stdout.suffix(5_000))")
        for phase in ["Coverage", "Fuzzing", "Stateful"] {
            #expect(output.stdout.contains("✅ \(phase)"), "\(phase) did not pass:\n\(output.stdout.suffix(5_000))")
        }
        #expect(try server.stop() == 0)
    }

    /// The same run fails when the server breaks the contract: here the document (not the server) is
    /// changed to promise a field `POST /v1/calls` does not send.
    @Test func aResponseOutsideTheDocumentFailsTheRun() throws {
        guard let schemathesis = Schemathesis.program() else {
            let message = Schemathesis.reportMissing("a broken contract fails schemathesis")
            if Services.required { Issue.record(Comment(rawValue: message)) }
            return
        }
        let (root, data, token) = try ServeEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var document = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: OpenAPIDocumentTests.path)))
                as? [String: Any])
        var components = try #require(document["components"] as? [String: Any])
        var schemas = try #require(components["schemas"] as? [String: Any])
        var registered = try #require(schemas["CallRegistered"] as? [String: Any])
        registered["required"] = ["id", "callId", "created", "recordingUrl"]
        schemas["CallRegistered"] = registered
        components["schemas"] = schemas
        document["components"] = components
        let path = root + "/broken-openapi.json"
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: path))

        let server = try ServeProcess(data: data, extra: ["--api-rate", "0", "--api-token-failures", "0"])
        defer { server.terminate() }
        let output = try Self.run(
            schemathesis, schema: path, token: token, directory: root,
            extra: ["--url", "http://127.0.0.1:\(server.port)", "--include-operation-id", "registerCall", "--phases", "examples,fuzzing"])
        #expect(output.status != 0, "\(output.stdout.suffix(5_000))")
        #expect(output.stdout.contains("recordingUrl"), "\(output.stdout.suffix(5_000))")
        #expect(try server.stop() == 0)
    }

    /// `schemathesis run` with the tenant's token, up to 100 examples per operation, no files left behind
    /// (no example database, no report), within 3 minutes.
    static func run(_ program: String, schema: String, token: String, directory: String, extra: [String] = [])
        throws -> ChildProcess.Output
    {
        // One worker: with two, Hypothesis parses Python source on two threads at once, and CPython 3.11's
        // `ast` then fails at random ("AST constructor recursion depth mismatch", CPython gh-106905): a
        // runtime error of the tool, not of the server, that failed CI once.
        try ChildProcess.run(
            URL(fileURLWithPath: program),
            [
                "run", schema, "--header", "Authorization: Bearer \(token)", "--checks", checks, "--max-examples", "100",
                "--generation-database", "none", "--workers", "1", "--request-timeout", "10", "--no-color",
                "--output-truncate", "false",
            ] + extra,
            currentDirectory: directory,
            timeout: .seconds(180)
        )
    }
}
