public import GRDB

// The catalog stores its enums by raw value, so a row reads the same in `sqlite3` as on the CLI,
// and the CHECK constraints of the schema list the same spellings.

extension ConsentMode: DatabaseValueConvertible {}
extension StorageCodec: DatabaseValueConvertible {}
extension RecordingTrack: DatabaseValueConvertible {}
extension RecordingState: DatabaseValueConvertible {}
extension JobState: DatabaseValueConvertible {}
extension ConsentEventKind: DatabaseValueConvertible {}
extension ConsentMethod: DatabaseValueConvertible {}
extension AuditAction: DatabaseValueConvertible {}
