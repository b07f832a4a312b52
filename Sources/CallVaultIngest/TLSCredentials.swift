import NIOCore
package import NIOSSL
import Synchronization

/// The certificate chain and private key of `serve --tls-cert FILE --tls-key FILE`, as a server TLS
/// context: TLS 1.2 at least (1.3 preferred by the handshake), NIOSSL's AEAD-only suites (ECDHE with
/// AES-GCM or ChaCha20-Poly1305). ``reload()`` (on SIGHUP) swaps the context for new connections; open
/// ones keep theirs, so renewing a certificate drops no call.
public final class TLSCredentials: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let context: Mutex<NIOSSLContext>

    public init(certificatePath: String, keyPath: String) throws(TLSCredentialsError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        context = Mutex(try Self.load(certificatePath: certificatePath, keyPath: keyPath))
    }

    /// Reads the files again; on an error the old context stays in use (and the error says why).
    public func reload() throws(TLSCredentialsError) {
        let fresh = try Self.load(certificatePath: certificatePath, keyPath: keyPath)
        context.withLock { $0 = fresh }
    }

    /// A handler for one new connection, with the current context (also the web console's listener and
    /// the `--sip tls:` listeners).
    package func serverHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: context.withLock { $0 })
    }

    static func load(certificatePath: String, keyPath: String) throws(TLSCredentialsError) -> NIOSSLContext {
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
        do { return try NIOSSLContext(configuration: configuration) } catch {
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
