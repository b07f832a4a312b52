import CallVaultCrypto
public import CallVaultModel
import NIOCore
import NIOSSL

/// How a connection reached the ingest port: plain, or over TLS with the SHA-256 fingerprint of the client
/// certificate it presented (lowercase hex of the leaf's DER; nil when it presented none). Read once per
/// connection, after the handshake, and checked against the pins of the tenant a request or stream
/// authenticates as (issue 18): a tenant with pins takes nothing else, a tenant without takes anything.
public enum ConnectionSecurity: Sendable, Hashable {
    case plain
    case tls(clientCertificate: String?)

    /// What a connection's pipeline holds: TLS when NIOSSL's handler is in it (put there by
    /// ``TLSSniffingHandler`` for a connection that began with a handshake, which is complete by the time a
    /// request or upgrade is read).
    static func of(_ pipeline: ChannelPipeline.SynchronousOperations) -> ConnectionSecurity {
        guard let handler = try? pipeline.handler(type: NIOSSLServerHandler.self) else { return .plain }
        return .tls(clientCertificate: handler.peerCertificate.flatMap(Self.fingerprint))
    }

    /// The SHA-256 of a certificate's DER, lowercase hex (what `tenant add|set --client-cert` pins).
    static func fingerprint(_ certificate: NIOSSLCertificate) -> String? {
        guard let der = try? certificate.toDERBytes() else { return nil }
        return Hex.encode(Digest.sha256(der))
    }

    /// Why `tenant` refuses this connection, or nil when it takes it: with pins, only TLS with a pinned
    /// certificate; without, anything. The reason names the tenant and what was wrong, never the token.
    public func refusal(for tenant: Tenant) -> String? {
        let pins = tenant.policy.clientCertificates
        guard !pins.isEmpty else { return nil }
        let prefix = "tenant \(tenant.id) requires a client certificate"
        switch self {
        case .plain:
            return "\(prefix): the connection is not TLS (use https:// or wss://, with the certificate)"
        case .tls(nil):
            return "\(prefix): none was presented"
        case .tls(let fingerprint?) where !pins.pins(fingerprint):
            return "\(prefix): the certificate presented is not pinned (sha256 \(fingerprint))"
        case .tls:
            return nil
        }
    }
}
