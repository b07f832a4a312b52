internal import AsyncHTTPClient
import Foundation
internal import NIOCore
internal import NIOHTTP1
internal import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One round trip to Transit, and what its answer means as a ``KeyProviderError``.
///
/// Vault's status codes carry most of the meaning (403: the token; 5xx: the server; 503: sealed), its
/// `errors` array the rest: Transit answers 400, not 404, for a missing key on encrypt, decrypt and
/// config, and "cipher: message authentication failed" for a changed ciphertext or context. The server's
/// own words are quoted only for the calls that carry no key (create, exists, destroy, verify) and with
/// the token cut out: an error about a wrap or an unwrap could quote the request, which holds a key.
extension TransitKeyProvider {
    /// What a request was for: its words in messages and the policy capability it needs.
    enum Operation {
        case create, exists, wrap, unwrap, destroy, verify

        var verb: String {
            switch self {
            case .create: "create"
            case .exists: "look up"
            case .wrap: "wrap a key under"
            case .unwrap: "unwrap a key under"
            case .destroy: "destroy"
            case .verify: "read the configuration of"
            }
        }

        /// The policy a token needs, for the message when it is refused.
        func policy(mount: String, key: String?) -> String {
            let key = key ?? "*"
            return switch self {
            case .create: "create/update on \(mount)/keys/\(key) and \(mount)/keys/\(key)/config"
            case .exists: "read on \(mount)/keys/\(key)"
            case .wrap: "update on \(mount)/encrypt/\(key)"
            case .unwrap: "update on \(mount)/decrypt/\(key)"
            case .destroy: "update on \(mount)/keys/\(key)/config and delete on \(mount)/keys/\(key)"
            case .verify: "read on \(mount)/config/keys"
            }
        }

        /// Whether the server's error text may be quoted: never when the request carried key bytes.
        var quotesServer: Bool { self != .wrap && self != .unwrap }
    }

    /// A status and the body, which the caller wipes when it may hold key bytes.
    struct Response {
        var status: HTTPResponseStatus
        var body: ByteBuffer?
    }

    /// The largest answer read; Transit's are a few hundred bytes.
    static let maximumResponseSize = 1024 * 1024

    func send(
        _ method: HTTPMethod,
        _ path: String,
        json: String?,
        _ operation: Operation,
        key: String?
    ) throws(KeyProviderError) -> Response {
        try send(method, path, body: json.map { ByteBuffer(string: $0) }, operation, key: key)
    }

    /// Sends one request and waits for its answer, at most the request timeout.
    func send(
        _ method: HTTPMethod,
        _ path: String,
        body: ByteBuffer?,
        _ operation: Operation,
        key: String?
    ) throws(KeyProviderError) -> Response {
        let what = key.map { "\(operation.verb) key \($0)" } ?? "\(operation.verb) the mount"
        guard MultiThreadedEventLoopGroup.currentEventLoop == nil else {
            throw KeyProviderError(
                .misconfigured,
                "\(location): asked to \(what) on a SwiftNIO event loop; key provider calls block and must run "
                    + "on another thread"
            )
        }
        guard !hasShutDown else {
            throw KeyProviderError(.unavailable, "\(location): cannot \(what): the provider was shut down")
        }
        var headers = HTTPHeaders()
        headers.add(name: "X-Vault-Token", value: token.value)
        headers.add(name: "X-Vault-Request", value: "true")
        if let namespace { headers.add(name: "X-Vault-Namespace", value: namespace) }
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(
                url: endpoint.url(path),
                method: method,
                headers: headers,
                body: body.map { .byteBuffer($0) }
            )
        } catch {
            throw KeyProviderError(.misconfigured, "\(location): cannot make a request to \(what) (\(error))")
        }
        let accumulator = ResponseAccumulator(request: request, maxBodySize: Self.maximumResponseSize)
        do {
            let response = try client.execute(request: request, delegate: accumulator, deadline: .now() + timeout)
                .futureResult.wait()
            return Response(status: response.status, body: response.body)
        } catch is ResponseAccumulator.ResponseTooBigError {
            throw invalid(operation, key: key, "an answer larger than \(Self.maximumResponseSize) bytes")
        } catch {
            throw KeyProviderError(.unavailable, "cannot reach \(location), to \(what): \(transportReason(error))")
        }
    }

    /// Why a request got no answer, in a few words.
    private func transportReason(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout:
                return "no answer within \(timeout.nanoseconds / 1_000_000) ms"
            case .remoteConnectionClosed:
                return "the server closed the connection"
            case .alreadyShutdown:
                return "the provider was shut down"
            default:
                break
            }
        }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED { return "connection refused" }
        if let error = error as? NIOConnectionError,
            error.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED })
        {
            return "connection refused"
        }
        // TLS and resolver errors name what failed (a certificate not trusted, a host not found) and no
        // request content; the token is cut out all the same.
        let described = redacted(String(describing: error))
        if described.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS: the server's certificate is not trusted or does not name this host "
                + "(CERTIFICATE_VERIFY_FAILED); if it comes from a private CA, give that CA's PEM file "
                + "(caCertificateFile), never turn verification off"
        }
        return described
    }

    /// The error for an answer that was not a success.
    func failure(_ response: Response, _ operation: Operation, key: String?) -> KeyProviderError {
        let status = response.status
        let messages = Self.vaultErrors(response.body)
        let what = key.map { "\(operation.verb) key \($0)" } ?? "\(operation.verb) the mount"
        let said =
            operation.quotesServer && !(messages ?? []).isEmpty
            ? ": " + redacted((messages ?? []).joined(separator: "; ").prefix(300).description) : ""
        let lowered = (messages ?? []).joined(separator: "\n").lowercased()
        switch status.code {
        case 300..<400:
            return KeyProviderError(
                .misconfigured,
                "\(location) answered \(status.code) (a redirect, e.g. from a standby node) to a request to \(what); "
                    + "point the URL at the active node or its load balancer"
            )
        case 401, 403:
            return KeyProviderError(
                .authenticationFailed,
                "\(location) refused the token (\(status.code)) to \(what): the token is wrong, expired or revoked, "
                    + "or its policy lacks \(operation.policy(mount: endpoint.mount, key: key))"
            )
        case 404 where lowered.contains("no handler for route"):
            return KeyProviderError(
                .misconfigured,
                "\(location): no Transit engine is mounted at \(endpoint.mount) (asked to \(what))"
            )
        case 404 where lowered.contains("namespace not found"):
            return KeyProviderError(.misconfigured, "\(location): the namespace does not exist (asked to \(what))")
        case 404 where messages != nil:
            return notFound(operation, key: key)
        case 400 where messages != nil && Self.saysKeyNotFound(lowered):
            return notFound(operation, key: key)
        case 400 where messages != nil && operation == .unwrap:
            return KeyProviderError(
                .unwrapFailed,
                "\(location): the wrapped key does not open under key \(key ?? "?") with its context (changed "
                    + "bytes, another tenant's or recording's context, or not a ciphertext of this key)"
            )
        case 400 where messages != nil && lowered.contains("deletion is not allowed"):
            return KeyProviderError(
                .refused,
                "\(location) refused to \(what): the key does not allow deletion (deletion_allowed)"
            )
        case 429, 412, 500..<600:
            let sealed = status.code == 503 ? " (sealed, or a standby without an active node)" : ""
            return KeyProviderError(
                .unavailable,
                "\(location) answered \(status.code)\(sealed) to a request to \(what)\(said)"
            )
        case 400..<500 where messages != nil:
            return KeyProviderError(.refused, "\(location) refused (\(status.code)) to \(what)\(said)")
        default:
            return invalid(operation, key: key, "status \(status.code) without a Vault error list")
        }
    }

    private func notFound(_ operation: Operation, key: String?) -> KeyProviderError {
        guard let key else {
            return KeyProviderError(.misconfigured, "\(location): the mount has no Transit configuration endpoint")
        }
        return KeyProviderError(.keyNotFound, "\(location): no key named \(key) (destroyed, revoked or never created)")
    }

    func invalid(_ operation: Operation, key: String?, _ detail: String) -> KeyProviderError {
        let what = key.map { "\(operation.verb) key \($0)" } ?? "\(operation.verb) the mount"
        return KeyProviderError(
            .invalidResponse,
            "\(location) answered a request to \(what) with something that is not a Transit answer (\(detail))"
        )
    }

    /// Whether a 404 is Vault saying "no such key" (its JSON with an `errors` list), not a web server.
    func isVaultNotFound(_ response: Response) -> Bool {
        guard let messages = Self.vaultErrors(response.body) else { return false }
        let lowered = messages.joined(separator: "\n").lowercased()
        return !lowered.contains("no handler for route") && !lowered.contains("namespace not found")
    }

    /// Transit's words for a key that is not there.
    static func saysKeyNotFound(_ lowered: String) -> Bool {
        lowered.contains("encryption key not found") || lowered.contains("no existing key named")
            || lowered.contains("could not delete key; not found") || lowered.contains("key not found")
    }

    /// The strings of a Vault error body `{"errors":[…]}`, or nil when the body is not one.
    static func vaultErrors(_ body: ByteBuffer?) -> [String]? {
        guard let object = try? jsonObject(body), let errors = object["errors"] as? [Any] else { return nil }
        return errors.compactMap { $0 as? String }
    }

    /// The body parsed as one JSON object (only for answers that carry no key bytes).
    static func jsonObject(_ body: ByteBuffer?) throws -> [String: Any] {
        guard let body, body.readableBytes > 0,
            let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        else { throw CocoaError(.propertyListReadCorrupt) }
        return object
    }

    /// `text` with the token cut out, should a server or a library ever echo it.
    func redacted(_ text: String) -> String {
        text.replacingOccurrences(of: token.value, with: "<token>")
    }

    /// Overwrites the bytes of a buffer that held key material, in its storage (no copy on write): the
    /// request that shared it has finished, so nothing else reads it any more.
    static func wipe(_ buffer: inout ByteBuffer?) {
        guard let unwrapped = buffer else { return }
        buffer = nil
        wipe(unwrapped)
    }

    static func wipe(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            wipe(UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(mutating: base), count: bytes.count))
        }
    }

    /// Zeroes memory in a way the compiler may not drop as a dead store.
    static func wipe(_ bytes: UnsafeMutableRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        #if canImport(Glibc)
            explicit_bzero(base, bytes.count)
        #else
            _ = memset_s(base, bytes.count, 0, bytes.count)
        #endif
    }
}
