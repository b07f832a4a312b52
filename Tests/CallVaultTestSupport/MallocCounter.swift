#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Counts heap allocations on the calling thread when a malloc counter is preloaded.
///
/// Needs `LD_PRELOAD` of a library exporting `cv_count_begin()` / `cv_count_end() -> long` that count
/// malloc-family calls on the calling thread: `scripts/malloc-counter.c`, which `scripts/test` builds and
/// preloads for the allocation suites. Tests that use it are `.enabled(if: MallocCounter.isAvailable, …)`,
/// so without it they are skipped and say why (and fail where `CALLVAULT_REQUIRE_MALLOC_COUNTER=1`).
public enum MallocCounter {
    typealias Begin = @convention(c) () -> Void
    typealias End = @convention(c) () -> Int

    static let hooks: (begin: Begin, end: End)? = {
        let handle = dlopen(nil, RTLD_NOW)
        guard let b = dlsym(handle, "cv_count_begin"), let e = dlsym(handle, "cv_count_end") else { return nil }
        return (unsafeBitCast(b, to: Begin.self), unsafeBitCast(e, to: End.self))
    }()

    /// Whether a counter is preloaded.
    public static var isAvailable: Bool { hooks != nil }

    /// Starts counting (``isAvailable`` must be true).
    public static func begin() { hooks!.begin() }

    /// Stops counting; returns the allocations since ``begin()``.
    public static func end() -> Int { hooks!.end() }

    /// The allocations `body` makes on this thread.
    public static func count(_ body: () throws -> Void) rethrows -> Int {
        begin()
        try body()
        return end()
    }
}
