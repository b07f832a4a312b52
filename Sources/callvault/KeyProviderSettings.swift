import CallVaultKeyProviders
import CallVaultModel
import CallVaultStore
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `DIR/key-provider.json`: which key provider wraps a data directory's day keys, and how to reach it.
///
/// Written by `callvault init` (mode 0600) and read by every command that opens the key store (see
/// ``DataDirectoryKeys``). It holds the kind and the non-secret settings — module path and token label,
/// Transit URL, mount, namespace, CA file, and the *paths* of the PIN and token files — never a PIN or a
/// token. A directory without the file is `local` (every directory made before providers existed).
struct KeyProviderSettings: Codable, Equatable, Sendable {
    static let fileName = "key-provider.json"
    /// Where the PKCS#11 user PIN is read from (or `pinFile`).
    static let pinVariable = "CALLVAULT_PKCS11_PIN"
    /// Where the Transit token is read from (or `tokenFile`).
    static let tokenVariable = TransitToken.environmentVariable

    var version = 1
    var kind: KeyProviderKind
    var pkcs11: PKCS11?
    var transit: Transit?
    /// Tenants with a provider of their own (`tenant add|set --key-provider`), by tenant id. Their PINs
    /// and tokens come from their files only (never the environment, which is the directory's). A file
    /// with tenants is version 2, so that an older build, which would wrap those tenants' day keys under
    /// the directory's provider, refuses it instead.
    var tenants: [String: KeyProviderSettings]?

    struct PKCS11: Codable, Equatable, Sendable {
        var module: String
        var token: String
        var pinFile: String?
    }

    struct Transit: Codable, Equatable, Sendable {
        var url: String
        var mount: String
        var namespace: String?
        var caFile: String?
        var tokenFile: String?
    }

    static let local = KeyProviderSettings(kind: .local)

    /// Whether both name the same keys: kind, module and token label, or URL, mount and namespace. (The
    /// PIN, token and CA files say how to reach the keys, and may change.)
    func namesSameKeys(as other: KeyProviderSettings) -> Bool {
        guard kind == other.kind else { return false }
        switch kind {
        case .local: return true
        case .pkcs11: return pkcs11?.module == other.pkcs11?.module && pkcs11?.token == other.pkcs11?.token
        case .transit:
            return transit?.url == other.transit?.url && transit?.mount == other.transit?.mount
                && transit?.namespace == other.transit?.namespace
        }
    }

    /// For messages: `pkcs11 (module M, token T)`, `transit (URL, mount M)`, `local`.
    var summary: String {
        switch kind {
        case .local: return "local"
        case .pkcs11: return "pkcs11 (module \(pkcs11?.module ?? "?"), token \(pkcs11?.token ?? "?"))"
        case .transit:
            var text = "transit (\(transit?.url ?? "?"), mount \(transit?.mount ?? "?")"
            if let namespace = transit?.namespace { text += ", namespace \(namespace)" }
            return text + ")"
        }
    }

    static func path(in directory: DataDirectory) -> String { directory.path + "/" + fileName }

    // MARK: The file

    /// The directory's settings, or nil when it has no `key-provider.json`.
    ///
    /// The file must be a regular file (not a symlink) owned by this user and readable by no one else:
    /// it names the PKCS#11 module this process loads, so one that others could change is refused.
    static func read(_ directory: DataDirectory) throws -> KeyProviderSettings? {
        let path = path(in: directory)
        guard let data = try PrivateFile.readSettings(path, writtenBy: "callvault init") else { return nil }
        let settings: KeyProviderSettings
        do { settings = try JSONDecoder().decode(KeyProviderSettings.self, from: data) } catch {
            throw CLIError.failure("\(path) is not a key-provider file CallVault can read", hint: "restore it from your configuration")
        }
        guard settings.version == 1 || settings.version == 2 else {
            throw CLIError.failure("\(path) has version \(settings.version); this callvault reads versions 1 and 2")
        }
        switch settings.kind {
        case .local: break
        case .pkcs11 where settings.pkcs11 != nil: break
        case .transit where settings.transit != nil: break
        default: throw CLIError.failure("\(path) names \(settings.kind.rawValue) without its settings")
        }
        return settings
    }

    /// Writes the file with mode 0600, atomically (a temporary file, fsync, rename, fsync of the directory).
    func write(_ directory: DataDirectory) throws {
        let path = Self.path(in: directory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var written = self
        written.version = (tenants?.isEmpty ?? true) ? 1 : 2
        try PrivateFile.writeAtomically(Array(try encoder.encode(written)) + [0x0A], to: path, in: directory.path)
    }

    /// The directory's settings with `tenantID`'s own provider set to `settings`.
    func setting(tenant tenantID: String, to settings: KeyProviderSettings) -> KeyProviderSettings {
        var result = self
        var own = settings
        own.tenants = nil
        own.version = 1
        result.tenants = (tenants ?? [:]).merging([tenantID: own]) { $1 }
        return result
    }

    /// Opens a tenant's own provider: its PIN or token from its file only; errors as provider errors
    /// (the key store reports them as that tenant's `providerFailed`).
    func openForTenant() throws(KeyProviderError) -> any KeyProvider {
        do {
            guard let provider = try open(environment: [:]) else {
                throw KeyProviderError(.misconfigured, "a tenant's own key provider cannot be local")
            }
            return provider
        } catch let error as KeyProviderError {
            throw error
        } catch let error as SecretError {
            throw KeyProviderError(.authenticationFailed, "\(summary): \(error.message)")
        } catch let error as CLIError {
            throw KeyProviderError(.unavailable, error.what)
        } catch {
            throw KeyProviderError(.unavailable, "\(summary): \(error)")
        }
    }

    // MARK: Opening the provider

    /// The provider these settings name, opened and checked (PKCS#11: module loaded, token found, logged
    /// in; Transit: the mount answers and refuses to create keys on encrypt); nil for `local`.
    ///
    /// The PIN or token comes from the environment variable, else from the file the settings name.
    /// Missing secrets throw ``SecretError`` (the caller decides usage or failure); a provider that
    /// cannot be opened throws a `CLIError` (exit 1) with the provider's message. Never a PIN or token
    /// in either.
    func open(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (any KeyProvider)? {
        switch kind {
        case .local:
            return nil
        case .pkcs11:
            guard let pkcs11 else { return nil }
            let pin = try Self.pin(file: pkcs11.pinFile, environment: environment)
            do throws(KeyProviderError) {
                return try PKCS11KeyProvider(.init(modulePath: pkcs11.module, tokenLabel: pkcs11.token, pin: pin))
            } catch {
                throw Self.failure(error)
            }
        case .transit:
            guard let transit else { return nil }
            let token: TransitToken
            do throws(KeyProviderError) { token = try TransitToken.load(file: transit.tokenFile, environment: environment) } catch {
                throw SecretError(message: error.message + Self.tokenAdvice(transit.tokenFile))
            }
            let provider: TransitKeyProvider
            do throws(KeyProviderError) {
                provider = try TransitKeyProvider(
                    .init(
                        url: transit.url, mount: transit.mount, token: token, namespace: transit.namespace,
                        caCertificateFile: transit.caFile))
            } catch {
                throw Self.failure(error)
            }
            do throws(KeyProviderError) { try provider.verifyMount() } catch {
                provider.shutdown()
                throw Self.failure(error)
            }
            return provider
        }
    }

    /// A missing or unreadable PIN or token (no secret in the message).
    struct SecretError: Error {
        let message: String
    }

    private static func tokenAdvice(_ file: String?) -> String {
        file == nil ? " (or give --transit-token-file FILE to `callvault init`)" : ""
    }

    /// The PIN from `CALLVAULT_PKCS11_PIN` when set, else from `file` (mode 0600 or 0400).
    static func pin(file: String?, environment: [String: String]) throws -> String {
        let fromEnvironment = environment[pinVariable]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if !fromEnvironment.isEmpty { return fromEnvironment }
        guard let file else {
            throw SecretError(
                message: "no PKCS#11 PIN: set the environment variable \(pinVariable) (or give --pkcs11-pin-file FILE, mode 0600, to `callvault init`)")
        }
        let text: String
        do { text = try PrivateFile.readSecret(file, what: "PKCS#11 PIN file") } catch let error as SecretError {
            throw SecretError(message: error.message + " (or set \(pinVariable))")
        }
        guard !text.isEmpty else { throw SecretError(message: "the PKCS#11 PIN file \(file) is empty (or set \(pinVariable))") }
        return text
    }

    /// A provider error as a failure (exit 1), with a hint by its code.
    static func failure(_ error: KeyProviderError) -> CLIError {
        let hint: String =
            switch error.code {
            case .authenticationFailed: "check \(pinVariable) or \(tokenVariable) (or the PIN or token file)"
            case .unavailable: "check the provider is installed and reachable; CallVault never falls back to local keys"
            case .misconfigured: "check the key provider settings given to `callvault init`"
            default: "check the key provider"
            }
        return .failure("key provider: \(error.message)", hint: hint)
    }
}

extension PrivateFile {
    /// The contents of a settings file `callvault` wrote into a data directory, or nil when there is none.
    ///
    /// It must be a regular file (not a symlink) owned by this user and readable by no one else: such a
    /// file names what this process loads and connects to, so one that others could change is refused.
    static func readSettings(_ path: String, writtenBy command: String) throws -> Data? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw CLIError.failure("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o170000 == 0o100000 else {
            throw CLIError.failure("\(path) is not a regular file", hint: "it must be the file `\(command)` wrote")
        }
        guard info.st_uid == geteuid(), info.st_mode & 0o077 == 0 else {
            throw CLIError.failure(
                "\(path) is not private to this user (mode \(String(info.st_mode & 0o777, radix: 8)))",
                hint: "run chmod 600 \(path) after checking its contents")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError.failure("cannot read \(path)")
        }
        return data
    }
}

/// Reads a small secret from a file only its owner can read (mode 0600 or 0400), checked on the open file.
enum PrivateFile {
    static let maximumSize = 16 * 1024

    /// Checks without reading: a regular file, mode 0600 or stricter. Throws ``KeyProviderSettings/SecretError``.
    static func check(_ path: String, what: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw KeyProviderSettings.SecretError(message: "cannot open the \(what) \(path): \(String(cString: strerror(errno)))")
        }
        try check(info, path, what: what)
    }

    private static func check(_ info: stat, _ path: String, what: String) throws {
        guard info.st_mode & 0o170000 == 0o100000 else {
            throw KeyProviderSettings.SecretError(message: "the \(what) \(path) is not a regular file")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw KeyProviderSettings.SecretError(
                message: "the \(what) \(path) is readable by others (mode \(String(mode, radix: 8))): run chmod 600 \(path)")
        }
        guard info.st_size <= off_t(maximumSize) else {
            throw KeyProviderSettings.SecretError(message: "the \(what) \(path) is larger than 16 KiB")
        }
    }

    /// The file's text, surrounding whitespace removed; the read buffer is wiped.
    static func readSecret(_ path: String, what: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw KeyProviderSettings.SecretError(message: "cannot open the \(what) \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw KeyProviderSettings.SecretError(message: "cannot read the \(what) \(path)")
        }
        try check(info, path, what: what)
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        defer { bytes.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, $0.count) } }
        var total = 0
        while total < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw KeyProviderSettings.SecretError(message: "cannot read the \(what) \(path)") }
            if n == 0 { break }
            total += n
        }
        return String(decoding: bytes[..<total], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes `bytes` to `path` with mode 0600, atomically: a temporary file, fsync, rename, fsync of
    /// `directory`.
    static func writeAtomically(_ bytes: [UInt8], to path: String, in directory: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CLIError.failure("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw CLIError.failure("cannot write \(temporary): \(reason)")
            }
            written += n
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CLIError.failure("cannot write \(path): \(reason)")
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }
}

/// The one place a data directory's key store is opened: with the key provider its `key-provider.json`
/// names (none for `local`). A provider that cannot be opened fails the command (exit 1); there is no
/// fallback to local keys. The key store is `DIR/keys.sqlite`, or the directory's PostgreSQL database
/// when its `database.json` says its keys are there (``DatabaseSettings/keysInDatabase``: a directory
/// made by `init --database … --key-provider pkcs11|transit`).
enum DataDirectoryKeys {
    static func openKeyStore(_ directory: DataDirectory, logger: Logger) async throws -> KeyStore {
        // An uninitialised or exposed directory fails first, with the `init` hint, before its files are read.
        do throws(KeyStoreError) { try directory.checkPrivate() } catch { throw CLIError(error) }
        let (provider, providers) = try openProviders(directory)
        let database: DatabaseSettings?
        do { database = try DatabaseSettings.resolve(directory) } catch {
            (provider as? TransitKeyProvider)?.shutdown()
            throw error
        }
        if let database, database.keysInDatabase {
            guard provider != nil else {
                (provider as? TransitKeyProvider)?.shutdown()
                throw CLIError.failure(
                    "\(DatabaseSettings.path(in: directory)) keeps this directory's keys in \(database.url), but its key "
                        + "provider is local: the keys that shredding destroys must not live in a shared database",
                    hint: "restore \(KeyProviderSettings.fileName) (pkcs11 or transit) from your configuration")
            }
            do {
                return try await KeyStore.open(
                    postgres: try database.storeSettings(), rootKey: FileRootKey(path: directory.rootKeyPath),
                    logger: logger, keyProviders: providers)
            } catch let error as KeyStoreError {
                (provider as? TransitKeyProvider)?.shutdown()
                throw CLIError(error)
            } catch {
                (provider as? TransitKeyProvider)?.shutdown()
                throw error
            }
        }
        return try openKeysFile(directory, logger: logger, provider: provider, providers: providers)
    }

    /// The directory's provider (nil: `local`) and the set with its tenants' own providers.
    private static func openProviders(_ directory: DataDirectory) throws -> ((any KeyProvider)?, KeyProviderSet) {
        let settings = try KeyProviderSettings.read(directory) ?? .local
        let provider: (any KeyProvider)?
        do { provider = try settings.open() } catch let error as KeyProviderSettings.SecretError {
            throw CLIError.failure(
                "key provider \(settings.summary): \(error.message)",
                hint: "this data directory's keys are in its key provider (\(KeyProviderSettings.fileName))")
        }
        var tenants: [String: KeyProviderSet.Opener] = [:]
        for (tenantID, own) in settings.tenants ?? [:] {
            tenants[tenantID] = { try own.openForTenant() }
        }
        return (provider, KeyProviderSet(default: provider, tenants: tenants))
    }

    /// The key store of a directory whose keys are in `DIR/keys.sqlite`, without the database check
    /// (the recording tools, which run only on an embedded catalog).
    static func openEmbeddedKeyStore(_ directory: DataDirectory, logger: Logger) throws -> KeyStore {
        do throws(KeyStoreError) { try directory.checkPrivate() } catch { throw CLIError(error) }
        let (provider, providers) = try openProviders(directory)
        return try openKeysFile(directory, logger: logger, provider: provider, providers: providers)
    }

    private static func openKeysFile(
        _ directory: DataDirectory, logger: Logger, provider: (any KeyProvider)?, providers: KeyProviderSet
    ) throws -> KeyStore {
        do throws(KeyStoreError) {
            return try KeyStore(dataDirectory: directory, logger: logger, keyProviders: providers)
        } catch {
            (provider as? TransitKeyProvider)?.shutdown()
            throw CLIError(error)
        }
    }
}
