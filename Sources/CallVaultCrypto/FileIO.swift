#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, allocation-free loops over `write(2)`/`read(2)` that retry on EINTR and partial transfers.
enum FileIO {
    /// Writes all `count` bytes; returns 0 or the errno of the failure.
    @inline(__always)
    static func writeAll(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int) -> Int32 {
        var done = 0
        while done < count {
            let n = write(fd, base + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            done += n
        }
        return 0
    }

    /// Reads until `count` bytes or end of file; returns how many were read, or −errno.
    static func readFully(_ fd: Int32, _ base: UnsafeMutableRawPointer, _ count: Int) -> Int {
        var done = 0
        while done < count {
            let n = read(fd, base + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return -Int(errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text) + " (errno \(code))"
    }
}
