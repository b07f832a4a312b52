import CallVaultModel
import Foundation
internal import GRDB

extension KeyStore {
    /// Runs `body` in one write transaction; any GRDB error becomes `databaseFailed`.
    func write<T>(_ body: (Database) throws(KeyStoreError) -> T) throws(KeyStoreError) -> T {
        do {
            return try database.write { db in try body(db) }
        } catch let error as KeyStoreError {
            throw error
        } catch {
            throw KeyStoreError(.databaseFailed, "key store \(path): \(error)")
        }
    }

    /// Runs `body` on a read-only snapshot.
    func read<T>(_ body: (Database) throws(KeyStoreError) -> T) throws(KeyStoreError) -> T {
        do {
            return try database.read { db in try body(db) }
        } catch let error as KeyStoreError {
            throw error
        } catch {
            throw KeyStoreError(.databaseFailed, "key store \(path): \(error)")
        }
    }

    func fetchOne(_ db: Database, _ sql: String, _ arguments: StatementArguments = []) throws(KeyStoreError)
        -> Row?
    {
        do {
            return try Row.fetchOne(db, sql: sql, arguments: arguments)
        } catch {
            throw KeyStoreError(.databaseFailed, "key store \(path): \(error)")
        }
    }

    func fetchAll(_ db: Database, _ sql: String, _ arguments: StatementArguments = []) throws(KeyStoreError)
        -> [Row]
    {
        do {
            return try Row.fetchAll(db, sql: sql, arguments: arguments)
        } catch {
            throw KeyStoreError(.databaseFailed, "key store \(path): \(error)")
        }
    }

    /// The first column of a `SELECT count(*) …` as an Int.
    func count(_ db: Database, _ sql: String, _ arguments: StatementArguments = []) throws(KeyStoreError) -> Int {
        (try fetchOne(db, sql, arguments)?[0] as Int?) ?? 0
    }

    func execute(_ db: Database, _ sql: String, _ arguments: StatementArguments = []) throws(KeyStoreError) {
        do {
            try db.execute(sql: sql, arguments: arguments)
        } catch {
            throw KeyStoreError(.databaseFailed, "key store \(path): \(error)")
        }
    }

    /// A BLOB column as bytes (wrapped keys only: ciphertext, never an unwrapped key).
    static func bytes(_ row: Row, _ column: String) -> [UInt8] {
        let data: Data? = row[column]
        return data.map { [UInt8]($0) } ?? []
    }
}
