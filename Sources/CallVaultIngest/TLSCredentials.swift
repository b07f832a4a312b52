import NIOCore
package import NIOSSL
import Synchronization

/// The certificate chain and private key of `serve --tls-cert FILE --tls-key FILE`, as a server TLS
/// context: TLS 1.2 at least (1.3 preferred by the handshake), NIOSSL's AEAD-only suites (ECDHE with
/// AES-GCM or ChaCha20-Poly1305). ``reload()`` (on SIGHUP) swaps the context for new connections; open
/// ones keep theirs, so renewing a certificate drops no call.
///
/// The ingest port's handshake also asks for a client certificate without requiring one, and accepts any
/// that is presented: whether it is trusted is decided per tenant, by its pins, once the request says
/// which tenant it is for (``ConnectionSecurity``). The console and SIP listeners do not ask (a browser
/// would offer its user a certificate picker).
public final class TLSCredentials: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let contexts: Mutex<Contexts>

    /// One context per verification mode: the mode is a property of the context, not of a connection.
    struct Contexts {
        let plain: NIOSSLContext
        let requestingClientCertificate: NIOSSLContext
    }

    public init(certificatePath: String, keyPath: String) throws(TLSCredentialsError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        contexts = Mutex(try Self.load(certificatePath: certificatePath, keyPath: keyPath))
    }

    /// Reads the files again; on an error the old context stays in use (and the error says why).
    public func reload() throws(TLSCredentialsError) {
        let fresh = try Self.load(certificatePath: certificatePath, keyPath: keyPath)
        contexts.withLock { $0 = fresh }
    }

    /// A handler for one new connection, with the current context (the web console's listener and the
    /// `--sip tls:` listeners): no client certificate is asked for.
    package func serverHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: contexts.withLock { $0.plain })
    }

    /// A handler for one new connection of the ingest port: asks for a client certificate, takes the
    /// connection with or without one, and accepts any certificate presented (the TLS handshake still
    /// proves the client holds its key); ``ConnectionSecurity`` reads its fingerprint afterwards.
    package func serverHandlerRequestingClientCertificate() -> NIOSSLServerHandler {
        NIOSSLServerHandler(
            context: contexts.withLock { $0.requestingClientCertificate },
            customVerificationCallback: { _, promise in promise.succeed(.certificateVerified) })
    }

    static func load(certificatePath: String, keyPath: String) throws(TLSCredentialsError) -> Contexts {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificatePath) } catch {
            throw .certificateUnreadable(certificatePath)
        }
        guard !chain.isEmpty else { throw .certificateUnreadable(certificatePath) }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: keyPath, format: .pem) } catch { throw .keyUnreadable(keyPath) }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuites = "ECDHE+AESGCM:ECDHE+CHACHA20"
        // `.optionalVerification` sends a CertificateRequest and lets a client without a certificate in; no
        // trust roots (no CA names are sent, none loaded): the custom callback decides, and it accepts.
        var requesting = configuration
        requesting.certificateVerification = .optionalVerification
        requesting.trustRoots = .certificates([])
        do {
            return Contexts(
                plain: try NIOSSLContext(configuration: configuration),
                requestingClientCertificate: try NIOSSLContext(configuration: requesting))
        } catch {
            throw .contextRefused(certificatePath, keyPath)
        }
    }
}

/// Why the TLS certificate or key could not be used; the message names the file, never its content.
public enum TLSCredentialsError: Error, Sendable, Equatable, CustomStringConvertible {
    case certificateUnreadable(String)
    case keyUnreadable(String)
    case contextRefused(String, String)

    public var description: String {
        switch self {
        case .certificateUnreadable(let path): "--tls-cert \(path): not a readable PEM certificate (chain)"
        case .keyUnreadable(let path): "--tls-key \(path): not a readable, unencrypted PEM private key"
        case .contextRefused(let certificate, let key):
            "--tls-cert \(certificate) and --tls-key \(key) do not make a TLS context (does the key belong to the certificate?)"
        }
    }
}
