internal import AsyncHTTPClient
public import CallVaultCrypto
import Foundation
internal import NIOCore
internal import NIOHTTP1
internal import NIOPosix
internal import NIOSSL
import Synchronization

/// Keys in a HashiCorp Vault or OpenBao Transit engine, over its HTTP API.
///
/// Each provider key is a Transit key of type `aes256-gcm96` that never leaves the server
/// (`exportable: false`). Wrapping sends the software key to `encrypt` with the ``KeyContext`` as
/// `associated_data`, so the `vault:vN:…` ciphertext decrypts only under the same key *and* context;
/// destroying deletes the Transit key (after setting `deletion_allowed`), and every wrapped copy
/// anywhere is dead from then on.
///
/// The mount should refuse to create keys on `encrypt` (`bao write MOUNT/config/keys disable_upsert=true`,
/// or a policy without `create` on `MOUNT/encrypt/*`): otherwise a wrap under a destroyed key's name
/// silently makes a new key instead of failing `keyNotFound`. ``verifyMount()`` checks it.
///
/// Calls block the calling thread for one HTTP round trip (up to ``Configuration/requestTimeout``);
/// never call them on a SwiftNIO event loop (they refuse with `misconfigured`) and keep them off the
/// ingest path's loops, as for every ``KeyProvider``. The provider owns one `HTTPClient` (a pool of
/// keep-alive connections on NIO's shared event loops); call ``shutdown()`` when done with it.
///
/// Key bytes go from the ``SecretKey`` straight into the request body, and from the response straight
/// into a new ``SecretKey``; the body and response buffers this provider holds are wiped when the call
/// returns. (Copies that SwiftNIO and TLS make inside their own buffers on the way are theirs.)
public final class TransitKeyProvider: KeyProvider {
    public var kind: KeyProviderKind { .transit }
    public var location: String { endpoint.location }

    let endpoint: Endpoint
    let token: TransitToken
    let namespace: String?
    let timeout: TimeAmount
    let client: HTTPClient
    private let isShutDown = Mutex(false)

    /// Makes a provider for `configuration`; no request is sent until the first call.
    ///
    /// Throws `misconfigured` for a URL that is not http(s), plain `http://` to a host that is not a
    /// loopback address (unless ``Configuration/allowInsecureHTTP``), a mount that is not a path of
    /// names, or a CA file that holds no PEM certificate.
    public init(_ configuration: Configuration) throws(KeyProviderError) {
        let endpoint = try Endpoint(configuration)
        let seconds = configuration.requestTimeout.components
        let nanoseconds = seconds.seconds * 1_000_000_000 + seconds.attoseconds / 1_000_000_000
        guard nanoseconds > 0 else {
            throw KeyProviderError(.misconfigured, "\(endpoint.location): the request timeout must be positive")
        }
        var tls = TLSConfiguration.makeClientConfiguration()  // full certificate and host name verification
        if let file = configuration.caCertificateFile {
            do {
                guard try !NIOSSLCertificate.fromPEMFile(file).isEmpty else { throw CocoaError(.fileReadCorruptFile) }
            } catch {
                throw KeyProviderError(
                    .misconfigured,
                    "\(endpoint.location): the CA file \(file) holds no readable PEM certificate"
                )
            }
            tls.trustRoots = .file(file)
        }
        let timeout = TimeAmount.nanoseconds(nanoseconds)
        // A refused or failed connection fails the call at once (AHC would retry it until the timeout):
        // the caller fails closed with the reason, and retries when it chooses, instead of every call
        // of a tenant hanging for the whole timeout while the server is down.
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.retryConnectionEstablishment = false
        let clientConfiguration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            // A redirect would send the token to wherever it points; report it instead (see failure(_:)).
            redirectConfiguration: .disallow,
            timeout: .init(connect: timeout, read: timeout),
            connectionPool: pool
        )
        self.endpoint = endpoint
        self.token = configuration.token
        self.namespace = configuration.namespace
        self.timeout = timeout
        self.client = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            configuration: clientConfiguration
        )
    }

    /// Closes the provider's connections. Calls made afterwards fail `unavailable`. Safe to call twice;
    /// a provider released without it shuts its client down in the background.
    public func shutdown() {
        let first = isShutDown.withLock { shut in
            defer { shut = true }
            return !shut
        }
        guard first else { return }
        if MultiThreadedEventLoopGroup.currentEventLoop == nil {
            try? client.syncShutdown()
        } else {
            client.shutdown().whenComplete { _ in }
        }
    }

    deinit {
        if !isShutDown.withLock({ $0 }) { client.shutdown().whenComplete { _ in } }
    }

    var hasShutDown: Bool { isShutDown.withLock { $0 } }

    // MARK: KeyProvider

    /// Creates an `aes256-gcm96` Transit key that cannot be exported and may be deleted.
    ///
    /// Transit's create is idempotent (a second create of a name answers 200 and keeps the key), so the
    /// name is looked up first and a taken name throws `keyExists`. Two nodes creating the same name at
    /// once both succeed and share the one key, which nothing replaced.
    public func createKey(named name: String) throws(KeyProviderError) {
        let segment = try keySegment(name)
        if try keyExists(named: name) {
            throw KeyProviderError(.keyExists, "\(location): a key named \(name) exists already")
        }
        let created = try send(.POST, "keys/\(segment)", json: #"{"type":"aes256-gcm96"}"#, .create, key: name)
        guard created.status.code / 100 == 2 else { throw failure(created, .create, key: name) }
        let configured = try send(.POST, "keys/\(segment)/config", json: Self.deletableConfig, .create, key: name)
        guard configured.status.code / 100 == 2 else { throw failure(configured, .create, key: name) }
    }

    public func keyExists(named name: String) throws(KeyProviderError) -> Bool {
        let segment = try keySegment(name)
        let response = try send(.GET, "keys/\(segment)", json: nil, .exists, key: name)
        switch response.status.code {
        case 200:
            // A Transit key description: {"data":{"name":…,"type":…,"keys":{…}}}.
            guard let object = try? Self.jsonObject(response.body), let data = object["data"] as? [String: Any],
                data["type"] is String
            else { throw invalid(.exists, key: name, "a key description without data.type") }
            return true
        case 404 where isVaultNotFound(response):
            return false
        default:
            throw failure(response, .exists, key: name)
        }
    }

    public func wrap(_ key: SecretKey, under name: String, context: KeyContext) throws(KeyProviderError) -> [UInt8] {
        let segment = try keySegment(name)
        let associatedData = Base64.encode(context.encoded)
        let prefix = #"{"plaintext":""#
        let suffix = #"","associated_data":""# + associatedData + #""}"#
        let keyCharacters = Base64.encodedCount(key.count)
        // Allocated once at its final size: a buffer that grew would leave an unwiped copy behind.
        var body = ByteBufferAllocator().buffer(capacity: prefix.utf8.count + keyCharacters + suffix.utf8.count)
        defer { Self.wipe(body) }
        body.writeString(prefix)
        key.withUnsafeBytes { source in
            _ = body.writeWithUnsafeMutableBytes(minimumWritableBytes: keyCharacters) { target in
                Base64.encode(source, into: target)
                return keyCharacters
            }
        }
        body.writeString(suffix)
        let response = try send(.POST, "encrypt/\(segment)", body: body, .wrap, key: name)
        guard response.status.code == 200 else { throw failure(response, .wrap, key: name) }
        guard let object = try? Self.jsonObject(response.body), let data = object["data"] as? [String: Any],
            let ciphertext = data["ciphertext"] as? String, Self.isTransitCiphertext(ciphertext)
        else { throw invalid(.wrap, key: name, "no vault:vN: ciphertext in data.ciphertext") }
        return Array(ciphertext.utf8)
    }

    public func unwrap(_ wrapped: [UInt8], under name: String, context: KeyContext) throws(KeyProviderError)
        -> SecretKey
    {
        let segment = try keySegment(name)
        let ciphertext = String(decoding: wrapped, as: UTF8.self)
        guard wrapped.count <= 64 * 1024, Self.isTransitCiphertext(ciphertext) else {
            throw KeyProviderError(
                .unwrapFailed,
                "\(location): the wrapped key under \(name) is not a Transit ciphertext (vault:vN:…)"
            )
        }
        let json =
            #"{"ciphertext":""# + ciphertext + #"","associated_data":""# + Base64.encode(context.encoded) + #""}"#
        var response = try send(.POST, "decrypt/\(segment)", json: json, .unwrap, key: name)
        defer { Self.wipe(&response.body) }
        guard response.status.code == 200 else { throw failure(response, .unwrap, key: name) }
        guard let body = response.body else { throw invalid(.unwrap, key: name, "an empty body") }
        let key = body.withUnsafeReadableBytes { raw -> SecretKey? in
            guard let range = JSONScanner.stringRange(at: ["data", "plaintext"], in: raw) else { return nil }
            let encoded = UnsafeRawBufferPointer(rebasing: raw[range])
            guard let count = Base64.decodedCount(encoded), (1...SecretKey.maximumByteCount).contains(count) else {
                return nil
            }
            let plain = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
            defer {
                Self.wipe(plain)
                plain.deallocate()
            }
            guard Base64.decode(encoded, into: plain) else { return nil }
            return try? SecretKey(copying: UnsafeRawBufferPointer(plain))
        }
        guard let key else { throw invalid(.unwrap, key: name, "no Base64 key in data.plaintext") }
        return key
    }

    /// Sets `deletion_allowed` on the key, then deletes it. Transit answers 400, not 404, for a key that
    /// is not there (at either step): that is `false`, so a sweep resumed after a crash destroys once.
    @discardableResult
    public func destroyKey(named name: String) throws(KeyProviderError) -> Bool {
        let segment = try keySegment(name)
        let configured = try send(.POST, "keys/\(segment)/config", json: Self.deletableConfig, .destroy, key: name)
        if configured.status.code / 100 != 2 {
            let error = failure(configured, .destroy, key: name)
            if error.code == .keyNotFound { return false }
            throw error
        }
        let response = try send(.DELETE, "keys/\(segment)", json: nil, .destroy, key: name)
        if response.status.code / 100 == 2 { return true }
        let error = failure(response, .destroy, key: name)
        if error.code == .keyNotFound { return false }
        throw error
    }

    // MARK: Mount

    /// Checks that the mount refuses to create a key on `encrypt` (`disable_upsert`), so that a wrap
    /// under a destroyed key fails instead of making a new key. Needs `read` on `MOUNT/config/keys`.
    ///
    /// Throws `misconfigured` with the command that fixes it when upsert is on. A token whose policy
    /// denies `create` on `MOUNT/encrypt/*` is safe too, but this check cannot see policies: skip it then.
    public func verifyMount() throws(KeyProviderError) {
        let response = try send(.GET, "config/keys", json: nil, .verify, key: nil)
        guard response.status.code == 200 else { throw failure(response, .verify, key: nil) }
        guard let object = try? Self.jsonObject(response.body), let data = object["data"] as? [String: Any],
            let disabled = data["disable_upsert"] as? Bool
        else { throw invalid(.verify, key: nil, "no data.disable_upsert") }
        guard disabled else {
            throw KeyProviderError(
                .misconfigured,
                "\(location) creates a key on encrypt when it is missing (disable_upsert is off), so a wrap under "
                    + "a destroyed key would make a new one: run `bao write \(endpoint.mount)/config/keys "
                    + "disable_upsert=true` (or deny create on \(endpoint.mount)/encrypt/* in the token's policy)"
            )
        }
    }

    // MARK: Helpers

    /// A key that may be deleted (shredding needs it) and can never be exported.
    static let deletableConfig = #"{"deletion_allowed":true,"exportable":false}"#

    private func keySegment(_ name: String) throws(KeyProviderError) -> String {
        guard let segment = Self.pathSegment(name) else {
            throw KeyProviderError(
                .misconfigured,
                "\(location): the key name \(String(reflecting: String(name.prefix(140)))) is not 1…128 letters, "
                    + "digits, '-', '_' or '.'"
            )
        }
        return segment
    }

    /// `vault:v` then a version, a colon and Base64: nothing that needs escaping inside a JSON string.
    static func isTransitCiphertext(_ text: String) -> Bool {
        guard text.hasPrefix("vault:v") else { return false }
        let rest = text.utf8.dropFirst("vault:v".utf8.count)
        guard let colon = rest.firstIndex(of: UInt8(ascii: ":")) else { return false }
        let version = rest[..<colon]
        let payload = rest[rest.index(after: colon)...]
        return !version.isEmpty && version.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && !payload.isEmpty
            && payload.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
                    || c == UInt8(ascii: "+") || c == UInt8(ascii: "/") || c == UInt8(ascii: "=")
            }
    }
}
