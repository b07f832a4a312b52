import Foundation
internal import GRDB

extension Date {
    /// This date as the catalog stores it (SQLite text with millisecond precision), so a record
    /// returned by an insert equals the same record fetched back.
    var catalogPrecision: Date {
        Date.fromDatabaseValue(databaseValue) ?? self
    }
}
