public import CallVaultModel
internal import GRDB

extension KeyStore {
    /// Runs `body` in one write transaction of the key store's backend (serialised with every other
    /// key-store writer of the same store).
    func write<T>(_ body: (any KeyRecordTransaction) throws(KeyStoreError) -> T) throws(KeyStoreError) -> T {
        try records.write(body)
    }

    /// Runs `body` in a write that only adds rows no other such write conflicts with (see
    /// ``KeyRecordStore/writeAdding(_:)``).
    func writeAdding<T>(_ body: (any KeyRecordTransaction) throws(KeyStoreError) -> T) throws(KeyStoreError) -> T {
        try records.writeAdding(body)
    }

    /// Runs `body` on a read-only snapshot.
    func read<T>(_ body: (any KeyRecordTransaction) throws(KeyStoreError) -> T) throws(KeyStoreError) -> T {
        try records.read(body)
    }

    /// After shredding: makes the deleted key bytes unrecoverable from the key store's files where the
    /// backend can. On SQLite `PRAGMA wal_checkpoint(TRUNCATE)`, retried briefly while another connection
    /// blocks it, else `checkpointBlocked` (see ``SQLiteKeyRecords/purgeDeletedKeys()``); on PostgreSQL
    /// nothing (the shredded keys are in the key provider there).
    public func checkpointTruncate() throws(KeyStoreError) {
        try records.purgeDeletedKeys()
    }

    /// The SQLite database of a key store opened on `keys.sqlite` (tests look inside it).
    var database: DatabasePool {
        guard let sqlite = records as? SQLiteKeyRecords else {
            preconditionFailure("the key store at \(path) is not on SQLite")
        }
        return sqlite.database
    }

    /// Whether the key store's rows are in a network database (PostgreSQL): each call then waits for a
    /// round trip, so callers run it on a thread that may block (never an event loop, and preferably not
    /// the cooperative pool: `serve` opens tracks on its blocking thread pool then).
    public var isOnNetworkDatabase: Bool { records is PostgresKeyRecords }

    /// Closes the backend's connections (PostgreSQL); the store cannot be used after.
    public func close() {
        records.close()
    }
}
