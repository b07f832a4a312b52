import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A Vault/OpenBao token: sent in the `X-Vault-Token` header, shown nowhere else.
///
/// Tokens come from the environment (``fromEnvironment(_:)``) or from a file only its owner can read
/// (``fromFile(_:)``), never from a command-line flag, where `ps` and shell history would show it. Its
/// descriptions say `<redacted>`, so a token printed by mistake (in a log line, in a test failure) does
/// not leak.
public struct TransitToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The environment variable the command line reads the token from.
    public static let environmentVariable = "CALLVAULT_TRANSIT_TOKEN"

    /// The largest token file read; Vault tokens are under 100 bytes, batch tokens a few hundred.
    static let maximumFileSize = 16 * 1024

    let value: String

    /// A token given by the program itself (tests, a secret manager's SDK).
    /// Throws `misconfigured` when it is empty or holds characters no header may carry.
    public init(_ value: String) throws(KeyProviderError) {
        guard !value.isEmpty else { throw KeyProviderError(.misconfigured, "the Transit token is empty") }
        guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw KeyProviderError(
                .misconfigured,
                "the Transit token holds spaces, control or non-ASCII characters; it is not a token"
            )
        }
        self.value = value
    }

    /// The token in the environment variable `name` (default `CALLVAULT_TRANSIT_TOKEN`), surrounding
    /// whitespace removed. Throws `misconfigured`, naming the variable, when it is unset or empty.
    public static func fromEnvironment(
        _ name: String = environmentVariable,
        environment: [String: String]? = nil
    ) throws(KeyProviderError) -> TransitToken {
        let environment = environment ?? ProcessInfo.processInfo.environment
        let raw = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !raw.isEmpty else {
            throw KeyProviderError(.misconfigured, "no Transit token: set the environment variable \(name)")
        }
        do { return try TransitToken(raw) } catch {
            throw KeyProviderError(.misconfigured, "the environment variable \(name): \(error.message)")
        }
    }

    /// The token in the file at `path`: a regular file that neither its group nor others may read
    /// (mode 0600 or 0400), holding the token and perhaps a final newline.
    ///
    /// Throws `misconfigured` naming the path when the file is missing, not a regular file, readable
    /// by others ("chmod 600 PATH"), larger than 16 KiB or empty. The mode is checked on the open file
    /// (`fstat`), so it cannot change between the check and the read.
    public static func fromFile(_ path: String) throws(KeyProviderError) -> TransitToken {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw KeyProviderError(.misconfigured, "cannot open the Transit token file \(path): \(reason)")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & 0o170000 == 0o100000 else {
            throw KeyProviderError(.misconfigured, "the Transit token file \(path) is not a regular file")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw KeyProviderError(
                .misconfigured,
                "the Transit token file \(path) is readable by others (mode \(String(mode, radix: 8))): "
                    + "run chmod 600 \(path)"
            )
        }
        guard info.st_size <= off_t(maximumFileSize) else {
            throw KeyProviderError(.misconfigured, "the Transit token file \(path) is larger than 16 KiB: not a token")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        defer { wipe(&bytes) }
        var total = 0
        while total < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                let reason = String(cString: strerror(errno))
                throw KeyProviderError(.misconfigured, "cannot read the Transit token file \(path): \(reason)")
            }
            if n == 0 { break }
            total += n
        }
        let text = String(decoding: bytes[..<total], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw KeyProviderError(.misconfigured, "the Transit token file \(path) is empty") }
        do { return try TransitToken(text) } catch {
            throw KeyProviderError(.misconfigured, "the Transit token file \(path): \(error.message)")
        }
    }

    /// The environment variable's token when it is set, else the file's (when `file` is given).
    public static func load(
        environmentVariable name: String = environmentVariable,
        file: String? = nil,
        environment: [String: String]? = nil
    ) throws(KeyProviderError) -> TransitToken {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let file, environment[name]?.isEmpty ?? true { return try fromFile(file) }
        return try fromEnvironment(name, environment: environment)
    }

    public var description: String { "TransitToken(<redacted>)" }
    public var debugDescription: String { description }

    private static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, $0.count) }
    }
}
