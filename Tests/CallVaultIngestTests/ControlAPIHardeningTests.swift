import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultIngest

/// The control API's limits and error bodies on a real `callvault serve`: problem+json errors, the body
/// limit (413), a tenant's request rate (429 with Retry-After, other tenants unaffected), unknown tokens
/// throttled per address and counted in `/metrics`.
@Suite("Control API hardening", .serialized, .timeLimit(.minutes(15)))
struct ControlAPIHardeningTests {
    @Test func tokenBucketsRefillAtTheirRateAndForgetFullBuckets() {
        let buckets = TokenBuckets(rate: 2, burst: 3, maximumKeys: 2)
        let start = ContinuousClock.now
        for _ in 0..<3 { #expect(buckets.take("a", at: start) == nil) }
        #expect(buckets.take("a", at: start) == .milliseconds(500), "empty: one token comes in 0.5 s")
        #expect(buckets.wait("a", at: start + .milliseconds(250)) == .milliseconds(250))
        #expect(buckets.take("a", at: start + .milliseconds(500)) == nil)
        #expect(buckets.wait("b", at: start) == nil, "another key has its own bucket")
        // Full after 2 s of quiet, never more than the burst.
        for _ in 0..<3 { #expect(buckets.take("a", at: start + .seconds(5)) == nil) }
        #expect(buckets.take("a", at: start + .seconds(5)) != nil)
        // A table at its size forgets full buckets first: "b" (full) goes, "a" (empty) stays empty.
        #expect(buckets.take("b", at: start + .seconds(5)) == nil)
        #expect(buckets.take("b", at: start + .seconds(10)) == nil)
        #expect(buckets.take("c", at: start + .seconds(10)) == nil)
        #expect(buckets.take("c", at: start + .seconds(10)) == nil)
        #expect(buckets.take("c", at: start + .seconds(10)) == nil)
        #expect(buckets.take("c", at: start + .seconds(10)) != nil)
    }

    @Test func unknownTokensCountPerIPv4AddressAndPerIPv6Slash64() {
        #expect(ControlAPI.throttleKey("192.0.2.7") == "192.0.2.7")
        #expect(ControlAPI.throttleKey("::ffff:192.0.2.7") == "192.0.2.7")
        #expect(ControlAPI.throttleKey("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64")
        #expect(ControlAPI.throttleKey("2001:db8:1:2:bbbb:cccc:dddd:eeee") == "2001:db8:1:2::/64")
        #expect(ControlAPI.throttleKey("2001:db8:1:3::1") == "2001:db8:1:3::/64")
        #expect(ControlAPI.throttleKey("::1") == "0:0:0:0::/64")
    }

    @Test func errorsAreProblemDetailsAndLimitsAnswer413And429() throws {
        let (root, data, tokenA) = try ServeEndToEndTests.setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let addedB = try ServeEndToEndTests.cli(["tenant", "add", "beta", "--json"], data: data)
        let tokenB = try #require(
            (try JSONSerialization.jsonObject(with: Data(addedB.stdout.utf8)) as? [String: Any])?["token"] as? String)
        // A burst of one, one request per 5 s: the second request of a tenant is over, however slow the run.
        let server = try ServeProcess(data: data, extra: ["--api-rate", "0.2", "--api-token-failures", "3"])
        defer { server.terminate() }
        func send(_ method: String, _ target: String, token: String? = nil, body: String = "") throws
            -> TestSocketClient.Response
        {
            let headers = token.map { ["Authorization": "Bearer \($0)"] } ?? [:]
            return try #require(TestSocketClient(port: server.port).request(method, target, headers: headers, body: body))
        }
        func expectProblem(_ response: TestSocketClient.Response, _ status: Int, _ detail: String) {
            #expect(response.status == status, "\(response)")
            #expect(response.headers["content-type"] == "application/problem+json", "\(response)")
            let problem = response.json
            #expect(problem?["type"] as? String == "about:blank" && problem?["status"] as? Int == status, "\(response)")
            #expect(problem?["title"] as? String == ControlResponse.reasonPhrase(status))
            #expect((problem?["detail"] as? String)?.contains(detail) == true, "\(response)")
        }

        let notFound = try send("GET", "/v1/call/+4930123456789/events")
        expectProblem(notFound, 404, "no such endpoint")
        #expect(!notFound.body.contains("123456789"), "the path is not echoed")
        let eventsMethod = try send("GET", "/v1/calls/+4930123456789/events")
        expectProblem(eventsMethod, 405, "GET is not allowed on /v1/calls/{callId}/events")
        #expect(!eventsMethod.body.contains("123456789"))
        let wrongMethod = try send("DELETE", "/v1/calls")
        expectProblem(wrongMethod, 405, "DELETE is not allowed on /v1/calls")
        #expect(wrongMethod.headers["allow"] == "POST")
        let missing = try send("POST", "/v1/calls", body: #"{"callId":"CA1"}"#)
        expectProblem(missing, 401, "missing tenant token")
        #expect(missing.headers["www-authenticate"] == #"Bearer realm="callvault""#)

        // The body limit: 413 as problem+json, and the connection closes.
        let client = try TestSocketClient(port: server.port)
        let big = String(repeating: "x", count: ControlAPI.maximumBodyBytes + 1)
        let tooLarge = try #require(
            client.request("POST", "/v1/calls", headers: ["Authorization": "Bearer \(tokenA)"], body: big))
        expectProblem(tooLarge, 413, "body larger than 65536 bytes")
        #expect(tooLarge.headers["connection"] == "close" && client.closedByPeer())
        // Announced too large: the 413 comes on the head, before any of the 10 MB is sent.
        let early = try TestSocketClient(port: server.port)
        early.send(Array("POST /v1/calls HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000000\r\n\r\n".utf8))
        let refused = try #require(early.readResponse(), "an answer without the body")
        expectProblem(refused, 413, "body larger than 65536 bytes")
        #expect(refused.headers["connection"] == "close" && early.closedByPeer())

        // A bad number is named by field, never echoed.
        let badNumber = try send("POST", "/v1/calls", token: tokenA, body: #"{"callId":"CA1","from":"+49 30 12x34"}"#)
        expectProblem(badNumber, 400, "phone number")
        #expect(!badNumber.body.contains("12x34"))

        // Tenant A's rate (burst 1): the next request is refused with Retry-After; tenant B is not.
        let limited = try send("POST", "/v1/calls", token: tokenA, body: #"{"callId":"CA1"}"#)
        expectProblem(limited, 429, "over its request rate")
        let retryAfter = try #require(limited.headers["retry-after"].flatMap { Int($0) }, "\(limited)")
        #expect((1...5).contains(retryAfter), "\(limited)")
        #expect(try send("POST", "/v1/calls", token: tokenB, body: #"{"callId":"CB1"}"#).status == 201)

        // Three unknown tokens from this address (one on a WebSocket upgrade, counted once), then any
        // token, B's valid one too, gets 429 without being checked; requests without a token still pass.
        let guess = "cvt_guessed-\(UUID().uuidString)"
        let unknown = try send("POST", "/v1/calls", token: guess, body: #"{"callId":"CA2"}"#)
        expectProblem(unknown, 401, "unknown tenant token")
        #expect(!unknown.body.contains(guess))
        #expect(try TestSocketClient(port: server.port).upgrade("/v1/twilio?token=\(guess)") == 401)
        expectProblem(try send("POST", "/v1/calls/CA1/events", token: guess, body: #"{"type":"consent"}"#), 401, "unknown")
        let throttled = try send("POST", "/v1/calls/CB1/events", token: tokenB, body: #"{"type":"disclosure"}"#)
        expectProblem(throttled, 429, "too many unknown tokens from this address")
        let wait = try #require(throttled.headers["retry-after"].flatMap { Int($0) }, "\(throttled)")
        #expect((1...20).contains(wait), "one guess comes back every 20 s: \(throttled)")
        #expect(try TestSocketClient(port: server.port).upgrade("/v1/stream?token=\(tokenB)") == 429)
        #expect(try send("GET", "/healthz").status == 200)

        let metrics = try send("GET", "/metrics").body
        #expect(metrics.contains("callvault_api_token_failures_total 3"), "\(metrics)")
        #expect(metrics.contains("callvault_api_token_throttled_total 2"), "\(metrics)")
        #expect(metrics.contains("callvault_api_rate_limited_total 1"), "\(metrics)")
        #expect(try server.stop() == 0)
    }
}
