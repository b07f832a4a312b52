/// Why the SIP listeners cannot start as configured; the message names the listener and the option
/// that fixes it.
public enum SIPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A `--sip tls:` listener without `--tls-cert`/`--tls-key` (it has nothing to present).
    case tlsWithoutCertificate(String)
    /// A plain `--sip udp:`/`tcp:` listener beside `--require-tls`.
    case plainListenerWithRequiredTLS(String)

    public var description: String {
        switch self {
        case .tlsWithoutCertificate(let listener):
            "--sip \(listener) needs --tls-cert and --tls-key (the certificate and key SIP over TLS presents, the same pair as HTTPS)"
        case .plainListenerWithRequiredTLS(let listener):
            "--require-tls refuses the plain SIP listener --sip \(listener): use --sip tls:HOST:PORT (SIP over TLS), or leave out --require-tls"
        }
    }
}
