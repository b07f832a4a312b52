public import Logging
import Synchronization

/// A log handler that keeps every message with its metadata, so a test can wait for what a server
/// logged and check that nothing secret (a token, a number) was.
public final class CapturedLog: LogHandler, Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    /// Every line so far: the message, then `key=value` metadata sorted by key.
    public var all: [String] { lines.withLock { $0 } }

    public var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    public var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    public func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        lines.withLock { $0.append("\(event.message) \(fields)") }
    }

    /// A logger that writes here.
    public func logger(label: String = "test") -> Logger { Logger(label: label) { _ in self } }

    /// Waits up to `timeout` for a line starting with `prefix`.
    public func wait(for prefix: String, timeout: Duration = .seconds(10)) async -> Bool {
        await eventually(timeout: timeout) { all.contains { $0.hasPrefix(prefix) } }
    }
}
