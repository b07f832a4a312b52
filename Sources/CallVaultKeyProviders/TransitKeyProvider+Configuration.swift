import Foundation

extension TransitKeyProvider {
    /// Where a Transit engine is and how to talk to it.
    ///
    /// TLS certificates are verified against the system's trust roots (or ``caCertificateFile``) —
    /// always. Plain `http://` is accepted only for a loopback address (a server on this machine, as in
    /// tests), unless ``allowInsecureHTTP`` says otherwise: over plain HTTP the token and every key
    /// that is wrapped or unwrapped cross the network in the clear.
    public struct Configuration: Sendable {
        /// The server, e.g. `https://vault.example.com:8200`; a path prefix (a proxy in front) is kept.
        public var url: String
        /// The path the Transit engine is mounted at; nested paths (`tenants/acme/transit`) work.
        public var mount: String
        /// The token, from the environment or a 0600 file (see ``TransitToken``).
        public var token: TransitToken
        /// How long one request may take, connecting included. Past it the call fails `unavailable`.
        public var requestTimeout: Duration
        /// The Vault Enterprise / OpenBao namespace (`X-Vault-Namespace`), if any.
        public var namespace: String?
        /// PEM file of the certificate authorities to trust instead of the system's (a private CA).
        public var caCertificateFile: String?
        /// Allows `http://` to a host that is not a loopback address. Only for a network that is itself
        /// encrypted and trusted (a sidecar in the same pod); never set it to get around a TLS error.
        public var allowInsecureHTTP: Bool

        public init(
            url: String,
            mount: String = "transit",
            token: TransitToken,
            requestTimeout: Duration = .seconds(10),
            namespace: String? = nil,
            caCertificateFile: String? = nil,
            allowInsecureHTTP: Bool = false
        ) {
            self.url = url
            self.mount = mount
            self.token = token
            self.requestTimeout = requestTimeout
            self.namespace = namespace
            self.caCertificateFile = caCertificateFile
            self.allowInsecureHTTP = allowInsecureHTTP
        }
    }

    /// A configuration checked once: the base URL without a trailing slash, the mount's path segments
    /// percent-encoded, and whether TLS is used.
    struct Endpoint: Sendable {
        let baseURL: String
        let encodedMount: String
        let mount: String
        let usesTLS: Bool
        /// For messages: "Transit at URL, mount M" (and the namespace).
        let location: String

        init(_ configuration: Configuration) throws(KeyProviderError) {
            let given = configuration.url
            guard let parsed = URLComponents(string: given), let scheme = parsed.scheme?.lowercased(),
                let host = parsed.host, !host.isEmpty
            else {
                throw KeyProviderError(
                    .misconfigured,
                    "the Transit URL \(given) is not a URL like https://vault.example.com:8200"
                )
            }
            guard scheme == "https" || scheme == "http" else {
                throw KeyProviderError(.misconfigured, "the Transit URL \(given) must start with https://")
            }
            guard parsed.user == nil, parsed.password == nil, parsed.query == nil, parsed.fragment == nil else {
                throw KeyProviderError(
                    .misconfigured,
                    "the Transit URL must hold no user, password, query or fragment (the token goes in "
                        + "CALLVAULT_TRANSIT_TOKEN)"
                )
            }
            var base = given
            while base.hasSuffix("/") { base.removeLast() }
            let mount = configuration.mount.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            guard !mount.isEmpty else { throw KeyProviderError(.misconfigured, "the Transit mount is empty") }
            var segments: [String] = []
            for segment in mount.split(separator: "/", omittingEmptySubsequences: false) {
                guard let encoded = TransitKeyProvider.pathSegment(String(segment)) else {
                    throw KeyProviderError(
                        .misconfigured,
                        "the Transit mount \(mount) is not a path of names made of letters, digits, '-', '_' and '.'"
                    )
                }
                segments.append(encoded)
            }
            var location = "Transit at \(base), mount \(mount)"
            if let namespace = configuration.namespace { location += ", namespace \(namespace)" }
            if scheme == "http" && !configuration.allowInsecureHTTP && !Self.isLoopback(host) {
                throw KeyProviderError(
                    .misconfigured,
                    "\(location): plain http:// is allowed only to a loopback address (the token and keys would "
                        + "cross the network in the clear); use https://"
                )
            }
            if let namespace = configuration.namespace,
                namespace.isEmpty || !namespace.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f })
            {
                throw KeyProviderError(.misconfigured, "\(location): the namespace is empty or not printable ASCII")
            }
            self.baseURL = base
            self.encodedMount = segments.joined(separator: "/")
            self.mount = mount
            self.usesTLS = scheme == "https"
            self.location = location
        }

        /// `localhost`, `127.0.0.0/8` or `::1`.
        static func isLoopback(_ host: String) -> Bool {
            let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
            let octets = host.split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return false }
            return octets[0] == "127"
        }

        /// `BASE/v1/MOUNT/SUFFIX`, each suffix segment already encoded.
        func url(_ suffix: String) -> String { "\(baseURL)/v1/\(encodedMount)/\(suffix)" }
    }

    /// Checks a key name (1…128 of letters, digits, `-`, `_`, `.`, not only dots) and returns it
    /// percent-encoded as one path segment. The set of characters needs no encoding today; encoding it
    /// anyway keeps a later, wider set from turning a name into a path (`a/../b`).
    static func pathSegment(_ name: String) -> String? {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard (1...128).contains(name.utf8.count), name.unicodeScalars.allSatisfy(allowed.contains),
            !name.allSatisfy({ $0 == "." })
        else { return nil }
        return name.addingPercentEncoding(withAllowedCharacters: allowed)
    }
}
