import CallVaultCrypto
public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An access key id, its secret and an optional session token: what Signature Version 4 signs with.
///
/// They come from the standard environment variables (``fromEnvironment(_:)``) or from a file only its
/// owner can read (``fromFile(_:)``), never from a command-line flag, where `ps` and shell history would
/// show them. The secret lives in a ``SecretKey`` (locked memory, wiped on release); the descriptions
/// show neither the secret nor the token, so credentials printed by mistake do not leak.
public struct AWSCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The environment variables read by ``fromEnvironment(_:)`` (the AWS CLI's and SDKs' names).
    public static let accessKeyVariable = "AWS_ACCESS_KEY_ID"
    public static let secretKeyVariable = "AWS_SECRET_ACCESS_KEY"
    public static let sessionTokenVariable = "AWS_SESSION_TOKEN"

    /// The largest credentials file read; real ones are well under 4 KiB even with a session token.
    static let maximumFileSize = 64 * 1024

    /// The access key id (`AKIA…`): not a secret, but shown nowhere by this package either.
    public let accessKeyID: String
    /// The secret access key.
    let secretAccessKey: SecretKey
    /// The session token of temporary credentials (STS), sent as `X-Amz-Security-Token`.
    let sessionToken: String?

    /// Credentials given by the program itself (tests, a secret manager's SDK). Throws `misconfigured`
    /// when a part is empty or holds characters no header may carry.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) throws(ObjectStoreError) {
        for (what, value) in [("access key id", accessKeyID), ("secret access key", secretAccessKey)] {
            guard !value.isEmpty else { throw ObjectStoreError(.misconfigured, "the \(what) is empty") }
            guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw ObjectStoreError(
                    .misconfigured,
                    "the \(what) holds spaces, control or non-ASCII characters; it is not one"
                )
            }
        }
        if let sessionToken {
            guard !sessionToken.isEmpty, sessionToken.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw ObjectStoreError(
                    .misconfigured,
                    "the session token is empty or holds spaces, control or non-ASCII characters"
                )
            }
        }
        do {
            self.secretAccessKey = try SecretKey(copying: Array(secretAccessKey.utf8))
        } catch {
            throw ObjectStoreError(.misconfigured, "cannot hold the secret access key in locked memory: \(error)")
        }
        self.accessKeyID = accessKeyID
        self.sessionToken = sessionToken
    }

    /// The credentials in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and (optional)
    /// `AWS_SESSION_TOKEN`. Throws `misconfigured`, naming the variable, when one is unset or empty.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ObjectStoreError) -> AWSCredentials {
        func value(_ name: String) -> String? {
            environment[name].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap {
                $0.isEmpty ? nil : $0
            }
        }
        guard let accessKey = value(accessKeyVariable) else {
            throw ObjectStoreError(.misconfigured, "\(accessKeyVariable) is not set: set it and \(secretKeyVariable)")
        }
        guard let secret = value(secretKeyVariable) else {
            throw ObjectStoreError(.misconfigured, "\(secretKeyVariable) is not set: set it with \(accessKeyVariable)")
        }
        return try AWSCredentials(
            accessKeyID: accessKey,
            secretAccessKey: secret,
            sessionToken: value(sessionTokenVariable)
        )
    }

    /// The credentials in a file that only its owner may read or write (mode 0600 or stricter):
    /// `NAME=VALUE` lines with the environment variables' names (`AWS_ACCESS_KEY_ID=…`), or the AWS
    /// shared-credentials form (`aws_access_key_id = …`, sections and `#` comments ignored; the first
    /// value of each name wins). Throws `misconfigured` naming the file and the fix when it is missing,
    /// readable by others, or lacks a key.
    public static func fromFile(_ path: String) throws(ObjectStoreError) -> AWSCredentials {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw ObjectStoreError(.misconfigured, "cannot open the credentials file \(path): \(reason)")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw ObjectStoreError(.misconfigured, "the credentials file \(path) is not a regular file")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw ObjectStoreError(
                .misconfigured,
                "the credentials file \(path) may be read by others (mode \(String(status.st_mode & 0o777, radix: 8))): "
                    + "run chmod 600 \(path)"
            )
        }
        guard status.st_size <= maximumFileSize else {
            throw ObjectStoreError(
                .misconfigured,
                "the credentials file \(path) is larger than \(maximumFileSize) bytes"
            )
        }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count == bytes.count else {
            throw ObjectStoreError(.misconfigured, "cannot read the credentials file \(path)")
        }
        defer { bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        var values: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty, !text.hasPrefix("#"), !text.hasPrefix(";"), !text.hasPrefix("["),
                let equals = text.firstIndex(of: "=")
            else { continue }
            var name = text[..<equals].trimmingCharacters(in: .whitespaces).uppercased()
            if name.hasPrefix("EXPORT ") { name = String(name.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            let value = text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if values[name] == nil { values[name] = value }
        }
        guard values[accessKeyVariable].map({ !$0.isEmpty }) == true,
            values[secretKeyVariable].map({ !$0.isEmpty }) == true
        else {
            throw ObjectStoreError(
                .misconfigured,
                "the credentials file \(path) needs \(accessKeyVariable)=… and \(secretKeyVariable)=… lines"
            )
        }
        return try fromEnvironment(values)
    }

    public var description: String { "AWSCredentials(<redacted>)" }
    public var debugDescription: String { description }
}
