#if canImport(Glibc)
    import Glibc
#endif

/// glibc's `syncfs(2)` and `sync_file_range(2)`, which Swift's Glibc module leaves out (they are
/// declared only under `_GNU_SOURCE`): looked up once by name; nil where the C library lacks them.
enum LinuxSync {
    typealias SyncFS = @convention(c) (Int32) -> Int32
    typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32

    static let syncfs: SyncFS? = symbol("syncfs", as: SyncFS.self)
    static let syncFileRange: SyncFileRange? = symbol("sync_file_range", as: SyncFileRange.self)
    /// `SYNC_FILE_RANGE_WAIT_AFTER` (linux/fs.h): wait for write-back under way, start none.
    static let waitAfter: UInt32 = 4

    private static func symbol<Function>(_ name: String, as type: Function.Type) -> Function? {
        #if canImport(Glibc)
            guard let address = dlsym(nil, name) else { return nil }  // nil: RTLD_DEFAULT
            return unsafeBitCast(address, to: type)
        #else
            return nil
        #endif
    }
}
