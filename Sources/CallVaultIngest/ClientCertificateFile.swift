import NIOSSL

/// A PEM file of a platform's client certificate, as `tenant add|set --client-cert FILE` reads it: the
/// fingerprint of its first certificate (the leaf; a chain after it is ignored, since the handshake's leaf
/// is what is compared), the same value `openssl x509 -noout -fingerprint -sha256` prints.
public enum ClientCertificateFile {
    public static func fingerprint(path: String) throws(ClientCertificateFileError) -> String {
        let certificates: [NIOSSLCertificate]
        do { certificates = try NIOSSLCertificate.fromPEMFile(path) } catch { throw .unreadable(path) }
        guard let leaf = certificates.first, let fingerprint = ConnectionSecurity.fingerprint(leaf) else {
            throw .unreadable(path)
        }
        return fingerprint
    }
}

/// Why a `--client-cert` file could not be pinned; the message names the file, never its content.
public enum ClientCertificateFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String)

    public var description: String {
        switch self {
        case .unreadable(let path): "--client-cert \(path): not a readable PEM certificate"
        }
    }
}
