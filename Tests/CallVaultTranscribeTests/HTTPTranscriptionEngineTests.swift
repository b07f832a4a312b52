import CallVaultArchive
import CallVaultTestSupport
import Foundation
import Synchronization
import Testing

@testable import CallVaultTranscribe

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the test server checks in a transcription request; nil when it is right.
func multipartProblem(_ request: LocalHTTPServer.Request, samples: Int, model: String) -> String? {
    guard request.requestLine.hasPrefix("POST /v1/audio/transcriptions ") else { return "wrong request line" }
    guard let type = request.headers["content-type"], let range = type.range(of: "boundary=") else { return "no boundary" }
    let boundary = String(type[range.upperBound...])
    let body = request.body
    func has(_ name: String, _ value: String) -> Bool {
        body.range(of: Data("Content-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)) != nil
    }
    guard has("model", model) else { return "no model field" }
    guard has("response_format", "verbose_json") else { return "no response_format" }
    guard has("timestamp_granularities[]", "word"), has("timestamp_granularities[]", "segment") else { return "no granularities" }
    guard let file = body.range(of: Data("name=\"file\"; filename=\"audio.wav\"\r\n".utf8)),
        let riff = body.range(of: Data("RIFF".utf8), in: file.upperBound..<body.endIndex)
    else { return "no file part" }
    let wav = body[riff.lowerBound...]
    func uint32(_ at: Int) -> Int {
        let bytes = Array(wav[(wav.startIndex + at)..<(wav.startIndex + at + 4)])
        return Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
    }
    guard wav.count > 44, String(decoding: wav.dropFirst(8).prefix(4), as: UTF8.self) == "WAVE" else { return "not RIFF/WAVE" }
    guard uint32(40) == samples * 2, uint32(4) == 36 + samples * 2, uint32(24) == 16_000 else { return "wrong WAV sizes" }
    let after = wav.dropFirst(44 + samples * 2)
    guard after.starts(with: Data("\r\n--\(boundary)--\r\n".utf8)) else { return "WAV length does not match the part" }
    return nil
}

let cannedVerboseJSON = Data(
    """
    {"task":"transcribe","language":"english","duration":3.0,"text":" This call is recorded. Thank you.",
     "segments":[{"id":0,"start":0.0,"end":1.5,"text":" This call is recorded.","avg_logprob":-0.2},
                 {"id":1,"start":1.5,"end":3.0,"text":" Thank you.","avg_logprob":-0.1}],
     "words":[{"word":"This","start":0.0,"end":0.3,"probability":0.9},{"word":"call","start":0.3,"end":0.62,"probability":0.8},
              {"word":"is","start":0.62,"end":0.8,"probability":0.95},{"word":"recorded.","start":0.8,"end":1.45,"probability":1.2},
              {"word":"Thank","start":1.6,"end":2.0},{"word":"you.","start":2.0,"end":2.4,"probability":0.7}]}
    """.utf8)

@Suite("HTTP transcription engine against a local server", .timeLimit(.minutes(15)))
struct HTTPTranscriptionEngineTests {
    let samples = (0..<16_000).map { Int16(truncatingIfNeeded: $0 &* 7) }

    private func engine(
        _ server: URL, timeout: TimeInterval = 10, attempts: Int = 3, backoff: TimeInterval = 0.01, retryAfterCap: TimeInterval = 30
    ) -> HTTPTranscriptionEngine {
        HTTPTranscriptionEngine(
            configuration: .init(
                endpoint: server, model: "whisper-test", apiKey: "test-key", timeout: timeout, maximumAttempts: attempts,
                baseBackoff: backoff, maximumRetryAfter: retryAfterCap))
    }

    private func canned(_ samples: Int) -> @Sendable (Int, LocalHTTPServer.Request) -> LocalHTTPServer.Reply {
        { _, request in
            if let problem = multipartProblem(request, samples: samples, model: "whisper-test") {
                return .respond(status: 422, headers: ["Content-Type": "application/json"], body: Data("{\"error\":{\"message\":\"\(problem)\"}}".utf8))
            }
            return .respond(status: 200, headers: ["Content-Type": "application/json"], body: cannedVerboseJSON)
        }
    }

    private func error(_ body: () throws(TranscriptionError) -> [TranscriptSegment]) -> TranscriptionError? {
        do {
            _ = try body()
            return nil
        } catch { return error }
    }

    @Test func parsesSegmentsWordsAndMillisecondTimes() throws {
        let server = try LocalHTTPServer(handler: canned(samples.count))
        defer { server.stop() }
        let segments = try engine(server.url).transcribe(samples, options: TranscriptionOptions(language: "de"))

        #expect(server.requests.count == 1)
        let request = try #require(server.requests.first)
        #expect(request.headers["authorization"] == "Bearer test-key")
        #expect(request.body.range(of: Data("name=\"language\"\r\n\r\nde\r\n".utf8)) != nil)
        #expect(segments.map(\.text) == ["This call is recorded.", "Thank you."])
        #expect(segments.map(\.startMs) == [0, 1500])
        #expect(segments.map(\.endMs) == [1500, 3000])
        #expect(segments[0].words.map(\.word) == ["This", "call", "is", "recorded."])
        #expect(segments[0].words.map(\.startMs) == [0, 300, 620, 800])
        #expect(segments[0].words.map(\.endMs) == [300, 620, 800, 1450])
        #expect(segments[0].words.map(\.confidence) == [0.9, 0.8, 0.95, 1])  // 1.2 clamped
        #expect(segments[1].words.map(\.word) == ["Thank", "you."])
        #expect(abs(segments[1].words[0].confidence - exp(-0.1)) < 1e-9)  // no probability: exp(avg_logprob)
    }

    @Test func noLanguageFieldWhenDetecting() throws {
        let server = try LocalHTTPServer(handler: canned(samples.count))
        defer { server.stop() }
        _ = try engine(server.url).transcribe(samples, options: TranscriptionOptions(language: nil))
        #expect(server.requests.first?.body.range(of: Data("name=\"language\"".utf8)) == nil)
        #expect(server.requests.first?.body.range(of: Data("name=\"prompt\"".utf8)) == nil, "no vocabulary, no prompt")
    }

    @Test func theTenantsVocabularyIsSentAsTheAPIsPrompt() throws {
        let server = try LocalHTTPServer(handler: canned(samples.count))
        defer { server.stop() }
        _ = try engine(server.url).transcribe(samples, options: TranscriptionOptions(vocabulary: ["Zorvex", "Kerkhoven"]))
        let prompt = Data("name=\"prompt\"\r\n\r\nGlossary: Zorvex, Kerkhoven.\r\n".utf8)
        #expect(server.requests.first?.body.range(of: prompt) != nil)
    }

    @Test func a500IsRetriedAndTheSecondAnswerUsed() throws {
        let ok = canned(samples.count)
        let server = try LocalHTTPServer { index, request in
            index == 0 ? .respond(status: 500, headers: [:], body: Data("oops".utf8)) : ok(index, request)
        }
        defer { server.stop() }
        let segments = try engine(server.url).transcribe(samples, options: TranscriptionOptions())
        #expect(server.requests.count == 2)
        #expect(segments.count == 2)
    }

    @Test func a429WithRetryAfterZeroIsRetriedWithoutTheBackoff() throws {
        let ok = canned(samples.count)
        let server = try LocalHTTPServer { index, request in
            index == 0 ? .respond(status: 429, headers: ["Retry-After": "0"], body: Data()) : ok(index, request)
        }
        defer { server.stop() }
        let started = ContinuousClock.now
        // A 20 s backoff would blow the bound below: Retry-After: 0 must win.
        let segments = try engine(server.url, backoff: 20).transcribe(samples, options: TranscriptionOptions())
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(server.requests.count == 2)
        #expect(segments.count == 2)
    }

    @Test func aLongRetryAfterIsCapped() throws {
        let ok = canned(samples.count)
        let server = try LocalHTTPServer { index, request in
            index == 0 ? .respond(status: 503, headers: ["Retry-After": "3600"], body: Data()) : ok(index, request)
        }
        defer { server.stop() }
        let started = ContinuousClock.now
        _ = try engine(server.url, retryAfterCap: 0.2).transcribe(samples, options: TranscriptionOptions())
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(200) && elapsed < .seconds(5))
        #expect(server.requests.count == 2)
    }

    @Test func persistent503sEndUnavailableAfterTheAttempts() throws {
        let server = try LocalHTTPServer { _, _ in .respond(status: 503, headers: [:], body: Data()) }
        defer { server.stop() }
        let failure = error { () throws(TranscriptionError) in try engine(server.url).transcribe(samples, options: TranscriptionOptions()) }
        #expect(failure?.code == .unavailable)
        #expect(failure?.message.contains("503") == true)
        #expect(server.requests.count == 3)
    }

    @Test func a400IsRejectedAfterOneRequestWithTheServersMessage() throws {
        let server = try LocalHTTPServer { _, _ in
            .respond(status: 400, headers: ["Content-Type": "application/json"], body: Data(#"{"error":{"message":"bad model"}}"#.utf8))
        }
        defer { server.stop() }
        let failure = error { () throws(TranscriptionError) in try engine(server.url).transcribe(samples, options: TranscriptionOptions()) }
        #expect(failure?.code == .rejected)
        #expect(failure?.message.contains("400") == true)
        #expect(failure?.message.contains("bad model") == true)
        #expect(failure?.isRetryable == false)
        #expect(server.requests.count == 1)
    }

    @Test func aLongServerMessageIsCutTo200Characters() {
        let message = String(repeating: "x", count: 500)
        let cut = HTTPTranscriptionEngine.serverMessage(Data(#"{"error":{"message":"\#(message)"}}"#.utf8))
        #expect(cut?.count == 201)  // 200 and an ellipsis
        #expect(HTTPTranscriptionEngine.serverMessage(Data("not json".utf8)) == nil)
    }

    @Test func aServerThatNeverAnswersTimesOut() throws {
        let server = try LocalHTTPServer { _, _ in .hang }
        defer { server.stop() }
        let started = ContinuousClock.now
        let failure = error { () throws(TranscriptionError) in
            try engine(server.url, timeout: 1).transcribe(samples, options: TranscriptionOptions())
        }
        let elapsed = ContinuousClock.now - started
        #expect(failure?.code == .timedOut)
        #expect(elapsed < .seconds(8))
        #expect(server.requests.count == 1)
    }

    @Test func aClosedPortIsUnavailable() throws {
        // A port held bound but not listening: connections are refused, and nothing else can take it.
        let closed = try UnusedPort()
        let failure = error { () throws(TranscriptionError) in
            try engine(URL(string: "http://127.0.0.1:\(closed.port)/")!).transcribe(samples, options: TranscriptionOptions())
        }
        #expect(failure?.code == .unavailable)
        #expect(failure?.message.contains("after 3 attempts") == true)
    }

    @Test func aGarbageBodyIsABadResponse() throws {
        let server = try LocalHTTPServer { _, _ in .respond(status: 200, headers: [:], body: Data("<html>hello</html>".utf8)) }
        defer { server.stop() }
        let failure = error { () throws(TranscriptionError) in try engine(server.url).transcribe(samples, options: TranscriptionOptions()) }
        #expect(failure?.code == .badResponse)
        #expect(server.requests.count == 1)
    }

    @Test func theInMemoryWAVHeader() {
        let wav = InMemoryWAV.encode([1, -2, 3])
        #expect(wav.count == 44 + 6)
        #expect(Array(wav.prefix(4)) == Array("RIFF".utf8))
        #expect(Array(wav[8..<16]) == Array("WAVEfmt ".utf8))
        #expect(Array(wav[36..<40]) == Array("data".utf8))
        #expect(Array(wav[40..<44]) == [6, 0, 0, 0])
        #expect(Array(wav[44...]) == [1, 0, 0xFE, 0xFF, 3, 0])
    }

    @Test func textOnlyJSONIsOneSegmentOverTheAudio() throws {
        let segments = try VerboseJSONTranscript.segments(
            from: Data(#"{"text":"  hello   there "}"#.utf8), audioDurationMs: 2500, engine: "test")
        #expect(segments == [TranscriptSegment(startMs: 0, endMs: 2500, text: "hello there", words: [])])
    }

    @Test func onlyJSONObjectsCountAsJSON() {
        #expect(VerboseJSONTranscript.isJSONObject(Data(#"{"text":"hi"}"#.utf8)))
        for text in ["42", "\"quoted\"", "true", "[1]", "hello there"] {
            #expect(!VerboseJSONTranscript.isJSONObject(Data(text.utf8)))
        }
    }

    @Test func badJSONErrorsNameThePathNotTheText() {
        let failure = error { () throws(TranscriptionError) in
            try VerboseJSONTranscript.segments(
                from: Data(#"{"segments":[{"start":"secret words","end":1,"text":"secret words"}]}"#.utf8), audioDurationMs: 1,
                engine: "test")
        }
        #expect(failure?.code == .badResponse)
        #expect(failure?.message.contains("secret") == false)
        #expect(failure?.message.contains("segments[0].start") == true)
    }
}
