import Foundation

/// Shared plumbing for the fuzz targets in `Fuzz/`.
///
/// Each target exports `LLVMFuzzerTestOneInput`. Built by `scripts/fuzz` (with `--sanitize=fuzzer`
/// and `-DCALLVAULT_FUZZ`), libFuzzer supplies `main`. In the normal build the target has its own
/// `@main` that calls the same function on the files named on the command line, so a finding can
/// be replayed without the fuzzer runtime and `swift build` links as usual.
public enum FuzzSupport {
    /// The standalone `main`: runs `body` on the command line's files and exits.
    public static func main(_ body: (UnsafeRawBufferPointer) -> Void) -> Never {
        exit(runInputs(Array(CommandLine.arguments.dropFirst()), body))
    }

    /// Runs `body` on every file named in `arguments` (a directory stands for the regular files
    /// directly inside it, in name order). Returns the process exit status.
    public static func runInputs(_ arguments: [String], _ body: (UnsafeRawBufferPointer) -> Void) -> Int32 {
        guard !arguments.isEmpty else {
            print("usage: \(CommandLine.arguments.first ?? "fuzz-target") FILE-OR-DIRECTORY...")
            print("Runs the fuzz target once per input file (the libFuzzer build is made by scripts/fuzz).")
            return 2
        }
        var count = 0
        for path in arguments {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    print("cannot read \(file)")
                    return 1
                }
                data.withUnsafeBytes { body($0) }
                count += 1
            }
        }
        print("ran \(count) input\(count == 1 ? "" : "s")")
        return 0
    }

    private static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return [path]
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { "\(path)/\($0)" }.filter {
            var dir: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &dir) && !dir.boolValue
        }
    }

    /// Splits `input` at every `separator` byte (the separator itself is dropped).
    public static func split(_ input: UnsafeRawBufferPointer, at separator: UInt8) -> [UnsafeRawBufferPointer] {
        var parts: [UnsafeRawBufferPointer] = []
        var start = 0
        for i in 0..<input.count where input[i] == separator {
            parts.append(UnsafeRawBufferPointer(rebasing: input[start..<i]))
            start = i + 1
        }
        parts.append(UnsafeRawBufferPointer(rebasing: input[start...]))
        return parts
    }

    /// Stops the process so libFuzzer records the input as a crash.
    public static func fail(_ message: String, file: StaticString = #file, line: UInt = #line) -> Never {
        fatalError("fuzz invariant violated: \(message)", file: file, line: line)
    }
}
