public import CallVaultArchive
import Dispatch
public import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Speech to text on an OpenAI-compatible server: `POST {endpoint}/v1/audio/transcriptions`.
///
/// That one request is what whisper.cpp's server, faster-whisper servers and hosted providers all
/// speak, so one client reaches a GPU box on the LAN or a provider without a sidecar per engine.
/// The WAV is built in memory (plaintext audio never touches disk) and sent as multipart/form-data
/// asking for `verbose_json` with word and segment timestamps.
///
/// Connection errors, 5xx and 429 are retried with exponential backoff (honouring `Retry-After`
/// seconds, capped); other 4xx are `.rejected` at once. A timeout is not retried here: the server
/// may still be working on it, and the queue already retries `.timedOut` jobs later.
/// The protocol is synchronous (the worker calls it from its own thread), so each request waits on
/// a semaphore. One engine per worker thread.
public final class HTTPTranscriptionEngine: TranscriptionEngine {
    public let name = "http"

    public struct Configuration: Sendable, Equatable {
        /// The server's base URL, e.g. `http://127.0.0.1:8080` (the path `/v1/audio/transcriptions` is appended).
        public var endpoint: URL
        /// The `model` form field (`whisper-1` for OpenAI; local servers mostly ignore it).
        public var model: String
        /// Sent as `Authorization: Bearer …` when set; never logged or put in errors.
        public var apiKey: String?
        /// Seconds one request may take, connecting and answering included.
        public var timeout: TimeInterval
        /// Requests made at most for one transcription (1 = no retries).
        public var maximumAttempts: Int
        /// The first retry waits this many seconds, doubling after each.
        public var baseBackoff: TimeInterval
        /// The longest `Retry-After` honoured, in seconds.
        public var maximumRetryAfter: TimeInterval

        public init(
            endpoint: URL, model: String = "whisper-1", apiKey: String? = nil, timeout: TimeInterval = 120,
            maximumAttempts: Int = 3, baseBackoff: TimeInterval = 0.5, maximumRetryAfter: TimeInterval = 30
        ) {
            self.endpoint = endpoint
            self.model = model
            self.apiKey = apiKey
            self.timeout = timeout
            self.maximumAttempts = maximumAttempts
            self.baseBackoff = baseBackoff
            self.maximumRetryAfter = maximumRetryAfter
        }

        /// `{endpoint}/v1/audio/transcriptions`, whatever trailing slashes the endpoint had.
        public var transcriptionsURL: URL {
            var base = endpoint.absoluteString
            while base.hasSuffix("/") { base.removeLast() }
            return URL(string: base + "/v1/audio/transcriptions") ?? endpoint
        }
    }

    public let configuration: Configuration
    private let session: URLSession

    public init(configuration: Configuration) {
        self.configuration = configuration
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.timeoutIntervalForRequest = configuration.timeout
        sessionConfiguration.timeoutIntervalForResource = configuration.timeout
        sessionConfiguration.requestCachePolicy = .reloadIgnoringLocalCacheData
        sessionConfiguration.urlCache = nil
        sessionConfiguration.httpCookieStorage = nil
        session = URLSession(configuration: sessionConfiguration)
    }

    deinit { session.invalidateAndCancel() }

    public func transcribe(_ samples: [Int16], options: TranscriptionOptions = TranscriptionOptions())
        throws(TranscriptionError) -> [TranscriptSegment]
    {
        let boundary = "CallVault-" + UUID().uuidString
        var request = URLRequest(url: configuration.transcriptionsURL, timeoutInterval: configuration.timeout)
        request.httpMethod = "POST"
        request.setValue("multipart/form-data; boundary=\(boundary)", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let apiKey = configuration.apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        request.httpBody = Self.multipartBody(
            boundary: boundary, wav: InMemoryWAV.encode(samples), model: configuration.model, language: options.language,
            prompt: Self.prompt(options.vocabulary))

        let attempts = max(1, configuration.maximumAttempts)
        var lastFailure = TranscriptionError(.unavailable, "http: no request made")
        for attempt in 1...attempts {
            let outcome = perform(request)
            let retryAfter: TimeInterval?
            switch outcome {
            case .response(let status, _, let body) where (200..<300).contains(status):
                return try VerboseJSONTranscript.segments(
                    from: body, audioDurationMs: InMemoryWAV.durationMs(samples), engine: "http")
            case .response(let status, let headers, _) where status == 429 || (500..<600).contains(status):
                lastFailure = TranscriptionError(
                    status == 429 || status == 503 ? .unavailable : .engineFailed,
                    "http: \(configuration.transcriptionsURL.host ?? "server") answered HTTP \(status) after \(attempt) attempt\(attempt == 1 ? "" : "s")")
                retryAfter = Self.retryAfter(headers).map { min($0, configuration.maximumRetryAfter) }
            case .response(let status, _, let body):
                var message = "http: \(configuration.transcriptionsURL.host ?? "server") rejected the request with HTTP \(status)"
                if let detail = Self.serverMessage(body) { message += ": \(detail)" }
                throw TranscriptionError(.rejected, message)
            case .timedOut:
                throw TranscriptionError(
                    .timedOut, "http: no answer from \(configuration.transcriptionsURL.host ?? "server") within \(Self.seconds(configuration.timeout))")
            case .connectionFailed(let reason):
                lastFailure = TranscriptionError(
                    .unavailable,
                    "http: cannot reach \(configuration.transcriptionsURL.host ?? "server")\(configuration.transcriptionsURL.port.map { ":\($0)" } ?? "") after \(attempt) attempt\(attempt == 1 ? "" : "s") (\(reason))")
                retryAfter = nil
            case .failed(let reason):
                throw TranscriptionError(.engineFailed, "http: request failed (\(reason))")
            }
            if attempt < attempts {
                let backoff = retryAfter ?? configuration.baseBackoff * pow(2, Double(attempt - 1))
                if backoff > 0 { Thread.sleep(forTimeInterval: backoff) }
            }
        }
        throw lastFailure
    }

    // MARK: - One request, synchronously

    private enum Outcome: Sendable {
        case response(status: Int, headers: [String: String], body: Data)
        case timedOut
        case connectionFailed(String)
        case failed(String)
    }

    private func perform(_ request: URLRequest) -> Outcome {
        let result = OutcomeBox()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            let outcome: Outcome
            if let error {
                outcome = Self.classify(error)
            } else if let http = response as? HTTPURLResponse {
                var headers: [String: String] = [:]
                for (key, value) in http.allHeaderFields {
                    if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
                }
                outcome = .response(status: http.statusCode, headers: headers, body: data ?? Data())
            } else {
                outcome = .failed("not an HTTP response")
            }
            result.outcome.withLock { $0 = outcome }
            done.signal()
        }
        task.resume()
        // URLSession enforces the timeout; this is a backstop should it not.
        if done.wait(timeout: .now() + configuration.timeout + 5) == .timedOut {
            task.cancel()
            _ = done.wait(timeout: .now() + 5)
            return .timedOut
        }
        return result.outcome.withLock { $0 } ?? .failed("no outcome")
    }

    /// Where the completion handler leaves its outcome for the waiting thread.
    private final class OutcomeBox: Sendable {
        let outcome = Mutex<Outcome?>(nil)
    }

    private static func classify(_ error: any Error) -> Outcome {
        guard let urlError = error as? URLError else { return .failed("\(type(of: error))") }
        switch urlError.code {
        case .timedOut: return .timedOut
        case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .networkConnectionLost, .notConnectedToInternet,
            .secureConnectionFailed, .badServerResponse, .resourceUnavailable:
            return .connectionFailed("URLError \(urlError.code.rawValue)")
        default: return .failed("URLError \(urlError.code.rawValue)")
        }
    }

    // MARK: - Request and response pieces

    /// The OpenAI API's `prompt` for a vocabulary: Whisper servers read it as text that came before, so
    /// the phrases are given as a glossary; nil for none.
    static func prompt(_ vocabulary: [String]) -> String? {
        vocabulary.isEmpty ? nil : "Glossary: " + vocabulary.joined(separator: ", ") + "."
    }

    static func multipartBody(boundary: String, wav: Data, model: String, language: String?, prompt: String? = nil) -> Data {
        var body = Data()
        func field(_ name: String, _ value: String) {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8))
        }
        field("model", model)
        field("response_format", "verbose_json")
        field("timestamp_granularities[]", "word")
        field("timestamp_granularities[]", "segment")
        if let language, !language.isEmpty { field("language", language) }
        if let prompt { field("prompt", prompt) }
        body.append(
            Data(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"audio.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
                    .utf8))
        body.append(wav)
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        return body
    }

    /// `Retry-After` in seconds (the HTTP-date form is ignored: backoff applies).
    static func retryAfter(_ headers: [String: String]) -> TimeInterval? {
        guard let value = headers["retry-after"]?.trimmingCharacters(in: .whitespaces), let seconds = Double(value),
            seconds.isFinite, seconds >= 0
        else { return nil }
        return seconds
    }

    /// The server's own `error.message` (or `error` / `detail` string), one line, at most 200 characters.
    static func serverMessage(_ body: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
        let raw: String? =
            ((object["error"] as? [String: Any])?["message"] as? String) ?? (object["error"] as? String)
            ?? (object["detail"] as? String) ?? (object["message"] as? String)
        guard let raw else { return nil }
        let line = raw.split(whereSeparator: { $0.isNewline || $0 == "\t" }).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
        guard !line.isEmpty else { return nil }
        return line.count > 200 ? String(line.prefix(200)) + "…" : line
    }

    private static func seconds(_ interval: TimeInterval) -> String {
        interval == interval.rounded() ? "\(Int(interval)) s" : "\(interval) s"
    }
}
