import CallVaultTestSupport
import Foundation

/// Runs a command-line tool (sox, espeak-ng) for tests that compare against an independent reference.
///
/// Tests that need a tool use `.enabled(if: ExternalTool.isInstalled("sox"), "...")`, so a missing
/// tool shows up as a skipped test with its reason, never as a silent pass.
enum ExternalTool {
    /// Whether `name` is an executable somewhere on `PATH`.
    static func isInstalled(_ name: String) -> Bool {
        path(of: name) != nil
    }

    static func path(of name: String) -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for dir in dirs {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `name arguments…`, waits (up to 2 minutes), and throws with its stderr if it exits non-zero.
    static func run(_ name: String, _ arguments: [String]) throws {
        guard let executable = path(of: name) else { throw Failure(description: "\(name) is not installed") }
        let output = try ChildProcess.run(URL(fileURLWithPath: executable), arguments, timeout: .seconds(120))
        guard output.status == 0 else {
            throw Failure(
                description: "\(name) \(arguments.joined(separator: " ")) exited \(output.status): \(output.stderr)")
        }
    }

    /// A fresh temporary directory, removed by the caller with `removeItem`.
    static func temporaryDirectory() throws -> URL {
        URL(fileURLWithPath: try TemporaryDirectory.make("dsp"), isDirectory: true)
    }

    /// Reads a headerless little-endian 16-bit file as samples.
    static func readS16(_ url: URL) throws -> [Int16] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { raw in
            (0..<(raw.count / 2)).map { Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self)) }
        }
    }

    /// Writes samples as a headerless little-endian 16-bit file.
    static func writeS16(_ samples: [Int16], to url: URL) throws {
        var data = Data(capacity: samples.count * 2)
        for s in samples { withUnsafeBytes(of: s.littleEndian) { data.append(contentsOf: $0) } }
        try data.write(to: url)
    }
}
