#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Process-wide settings that keep key material and audio out of crash dumps.
///
/// Long-running programs (`serve`, `transcribe`, `sweep`) hold unwrapped keys and plaintext audio in
/// memory; a core dump would write them to disk in the clear. Call once at start-up.
public enum ProcessHardening {
    /// Disables core dumps: `prctl(PR_SET_DUMPABLE, 0)` (Linux) and `RLIMIT_CORE` 0.
    ///
    /// `prctl` is variadic in C, which Swift does not import, so it is called through `dlsym` with
    /// its five-`unsigned long` form (the kernel's own signature). Not dumpable also keeps other
    /// processes of the same user from attaching with ptrace or reading /proc/PID/mem.
    /// - Returns: true if the process is now not dumpable (Linux) or core size is 0 (elsewhere).
    @discardableResult
    public static func disableCoreDumps() -> Bool {
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        #if canImport(Glibc)
            let limited = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit) == 0
            guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "prctl") else { return false }
            typealias Prctl = @convention(c) (CInt, UInt, UInt, UInt, UInt) -> CInt
            let prctl = unsafeBitCast(symbol, to: Prctl.self)
            let setDumpable: CInt = 4  // PR_SET_DUMPABLE
            let getDumpable: CInt = 3  // PR_GET_DUMPABLE
            guard prctl(setDumpable, 0, 0, 0, 0) == 0 else { return false }
            return limited && prctl(getDumpable, 0, 0, 0, 0) == 0
        #else
            return setrlimit(RLIMIT_CORE, &limit) == 0
        #endif
    }
}
