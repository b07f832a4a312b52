public import CallVaultModel

/// The layout of a CallVault data directory (`--data DIR`), and its creation with private modes.
///
/// ```
/// DIR/                          0700
///   root.key                    0600, 32 random bytes (FileRootKey)
///   keys.sqlite[-wal|-shm]      0600, the key store (KeyStore)
///   catalog.sqlite[-wal|-shm]   the catalog, queue and audit log
///   recordings/                 0700
///     <tenant>/<yyyy-mm-dd>/    0700, sealed .cvr files of the calls recorded that UTC day
///   transcripts/                0700
///     <tenant>/<yyyy-mm-dd>/    0700, sealed transcripts (JSON) made that UTC day
/// ```
///
/// `recordings/` and `transcripts/` may live in another directory, the *objects* directory (`init
/// --objects DIR`, e.g. a shared NFS mount that several nodes record into and transcribe from): the
/// catalog keeps each sealed file's path relative to it (``resolve(_:)``).
///
/// Everything is private to the service user: sealed files are useless without keys, but their names
/// and sizes still reveal who called when.
public struct DataDirectory: Sendable, Hashable {
    /// The directory itself, as given (relative paths are relative to the working directory).
    public let path: String
    /// Where `recordings/` and `transcripts/` are: ``path`` unless an objects directory was given.
    public let objectsPath: String

    /// - Parameter objects: the objects directory (sealed recordings and transcripts), nil for `path`.
    public init(path: String, objects: String? = nil) {
        func trimmed(_ path: String) -> String {
            var trimmed = path
            while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
            return trimmed
        }
        self.path = trimmed(path)
        self.objectsPath = objects.map(trimmed) ?? self.path
    }

    /// The file a catalog path names: relative to the objects directory (as the catalog stores them),
    /// or as is when absolute (a file given on the command line).
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : objectsPath + "/" + path
    }

    /// `DIR/root.key`: the root key file.
    public var rootKeyPath: String { path + "/root.key" }
    /// `DIR/keys.sqlite`: the key store database.
    public var keyStorePath: String { path + "/keys.sqlite" }
    /// `DIR/catalog.sqlite`: the catalog database.
    public var catalogPath: String { path + "/catalog.sqlite" }
    /// `recordings/` in the objects directory: the root of the sealed files.
    public var recordingsPath: String { objectsPath + "/recordings" }

    /// `transcripts/` in the objects directory: the root of the sealed transcripts.
    public var transcriptsPath: String { objectsPath + "/transcripts" }

    /// Creates (if missing) the transcript folder for a tenant and day, each level with mode 0700, and
    /// returns it.
    @discardableResult
    public func makeTranscriptDirectory(tenantID: String, day: CalendarDay) throws(KeyStoreError) -> String {
        try KeyStoreIdentifier.validate(tenantID, what: "tenant id")
        let folder = "\(transcriptsPath)/\(tenantID)/\(day)"
        try FileSystem.makePrivateDirectory(transcriptsPath)
        try FileSystem.makePrivateDirectory("\(transcriptsPath)/\(tenantID)")
        try FileSystem.makePrivateDirectory(folder)
        return folder
    }

    /// `DIR/recordings/<tenant>/<yyyy-mm-dd>`, the folder for a tenant's recordings of one UTC day.
    public func recordingDirectory(tenantID: String, day: CalendarDay) throws(KeyStoreError) -> String {
        try KeyStoreIdentifier.validate(tenantID, what: "tenant id")
        return "\(recordingsPath)/\(tenantID)/\(day)"
    }

    /// Creates (if missing) the recording folder for a tenant and day, each level with mode 0700.
    @discardableResult
    public func makeRecordingDirectory(tenantID: String, day: CalendarDay) throws(KeyStoreError) -> String {
        let folder = try recordingDirectory(tenantID: tenantID, day: day)
        try FileSystem.makePrivateDirectory(recordingsPath)
        try FileSystem.makePrivateDirectory("\(recordingsPath)/\(tenantID)")
        try FileSystem.makePrivateDirectory(folder)
        return folder
    }

    /// Creates the directory, the objects directory and `recordings/` with mode 0700; returns whether
    /// the data directory was new.
    ///
    /// Idempotent. An existing directory is accepted only if it is ours and private (0700 or stricter).
    @discardableResult
    public func create() throws(KeyStoreError) -> Bool {
        let created = try FileSystem.makePrivateDirectory(path)
        if objectsPath != path { try FileSystem.makePrivateDirectory(objectsPath) }
        try FileSystem.makePrivateDirectory(recordingsPath)
        return created
    }

    /// Refuses a data directory (or objects directory) that is missing, not ours, or reachable by group
    /// or others.
    public func checkPrivate() throws(KeyStoreError) {
        try FileSystem.checkPrivateDirectory(path)
        if objectsPath != path { try FileSystem.checkPrivateDirectory(objectsPath) }
    }
}
