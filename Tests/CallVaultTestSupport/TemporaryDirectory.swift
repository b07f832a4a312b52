import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A fresh private directory (mode 0700, from `mkdtemp`) in the temporary folder, removed when released.
///
/// Keep it alive while files in it are open: hold it in the fixture that uses it, or end the test with
/// ``remove()`` (ARC may release a value after its last use, before the end of its scope).
public final class TemporaryDirectory: Sendable {
    public let path: String

    /// - Parameter label: part of the folder's name (`callvault-LABEL-XXXXXX`), to tell whose it is.
    public init(_ label: String = "test") throws {
        path = try Self.make(label)
    }

    /// Creates a fresh directory as `init` does, but leaves removing it to the caller; returns its path.
    public static func make(_ label: String = "test") throws -> String {
        var template = Array((NSTemporaryDirectory() + "callvault-\(label)-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        return String(cString: made)
    }

    deinit { remove() }

    /// Removes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The path of `name` inside.
    public func appending(_ name: String) -> String { path + "/" + name }
}
