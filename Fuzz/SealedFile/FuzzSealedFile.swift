import CallVaultCrypto
import Foundation
import FuzzSupport

// Fuzzes the `.cvr` reader: SealedFileHeader.decode on the bytes, then a SealedFileReader over
// the same bytes written to a file in a private temporary directory (the reader only takes paths).
//
// Input: byte 0 holds the reader's options (bit 0: not the final part, bit 1: allowIncomplete),
// the rest is the file. All files are read with one fixed data key, so seeds sealed with it (see
// `--write-seeds`) get past the key commitment and header MAC and the fuzzer reaches the segment
// frames. Checked beyond "does not crash": the reader accepts only headers `decode` accepts, and
// only releases segments in order, never longer than the header's maximum.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzSealedFile(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#if !CALLVAULT_FUZZ
@main
enum Standalone {
    static func main() {
        let arguments = CommandLine.arguments
        if arguments.count == 3, arguments[1] == "--write-seeds" {
            writeSeeds(to: arguments[2])
            exit(0)
        }
        FuzzSupport.main(fuzzSealedFile)
    }
}
#endif

/// The data key every fuzzed file is read with: bytes 1...32.
let fuzzKeyBytes: [UInt8] = Array(1...32)

/// A private directory for the one file each input is written to, removed at exit.
final class Scratch: Sendable {
    static let shared = Scratch()
    let path: String
    let key: SecretKey

    init() {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("callvault-fuzz-XXXXXX").path
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { FuzzSupport.fail("mkdtemp failed") }
        path = String(cString: made) + "/input.cvr"
        do { key = try SecretKey(copying: fuzzKeyBytes) } catch { FuzzSupport.fail("no key: \(error)") }
        atexit {
            let file = Scratch.shared.path
            unlink(file)
            rmdir(String(file.dropLast("/input.cvr".count)))
        }
    }
}

func fuzzSealedFile(_ input: UnsafeRawBufferPointer) {
    guard let options = input.first else { return }
    let file = UnsafeRawBufferPointer(rebasing: input[1...])
    let scratch = Scratch.shared

    var decoded: SealedFileHeader?
    if file.count >= SealedFileHeader.fixedPrefixByteCount,
        let length = try? SealedFileHeader.byteCount(fromPrefix: Array(file.prefix(8))), length <= file.count
    {
        decoded = try? SealedFileHeader.decode(Array(file.prefix(length)))
        if let header = decoded {
            guard (try? header.encoded()) == Array(file.prefix(length)) else {
                FuzzSupport.fail("a decoded header does not encode to the same bytes")
            }
        }
    }

    let fd = open(scratch.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { FuzzSupport.fail("cannot create \(scratch.path)") }
    if file.count > 0 {
        guard write(fd, file.baseAddress!, file.count) == file.count else { FuzzSupport.fail("short write") }
    }
    close(fd)

    let reader: SealedFileReader
    do {
        reader = try SealedFileReader(
            path: scratch.path, dataKey: scratch.key,
            expectedTenantID: decoded?.metadata.tenantID ?? "tenant-a",
            expectedRecordingID: decoded?.metadata.recordingID ?? "rec-1",
            isFinalPart: options & 1 == 0, allowIncomplete: options & 2 != 0)
    } catch {
        return
    }
    guard let header = decoded, header == reader.header else {
        FuzzSupport.fail("the reader accepted a header decode refuses or reads differently")
    }
    var expected = UInt64(header.metadata.firstSegmentIndex)
    do {
        while let segment = try reader.next() {
            guard UInt64(segment.index) == expected, segment.plaintext.count <= Int(header.maxSegmentByteCount) else {
                FuzzSupport.fail("segment \(segment.index) of \(segment.plaintext.count) bytes, expected \(expected)")
            }
            expected += 1
        }
        guard reader.ending != nil else { FuzzSupport.fail("reader ended without an ending") }
    } catch {
        // Refused: a failed reader keeps failing.
        guard (try? reader.next()) == nil else { FuzzSupport.fail("reader recovered after an error") }
    }
}

/// Writes seed inputs (option byte + sealed file) made with the fuzz key: whole recordings, an
/// interrupted one, a non-final part, an empty one.
func writeSeeds(to directory: String) {
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let scratch = Scratch.shared
    func seed(_ name: String, options: UInt8, segments: [[UInt8]], finish: Bool, part: UInt32 = 0, first: UInt32 = 0,
              maxSegment: Int = 64) {
        let metadata = SealedFileMetadata(
            kind: .voice, tenantID: "tenant-a", recordingID: "rec-1", keyID: "dek-rec-1", codec: .g711u,
            sampleRate: 8000, channels: 1, frameDurationMs: 20, createdAtMs: 1_763_800_000_000, partNumber: part,
            firstSegmentIndex: first)
        unlink(scratch.path)  // the writer creates its file exclusively
        do {
            let writer = try SealedFileWriter(
                path: scratch.path, dataKey: scratch.key, metadata: metadata, maxSegmentByteCount: maxSegment)
            for (i, segment) in segments.enumerated() {
                try segment.withUnsafeBytes { try writer.append($0, last: finish && i == segments.count - 1) }
            }
            if finish && segments.isEmpty { try writer.finish() }
            try writer.close()
        } catch {
            FuzzSupport.fail("cannot write seed \(name): \(error)")
        }
        guard let bytes = FileManager.default.contents(atPath: scratch.path) else { FuzzSupport.fail("cannot read seed") }
        guard FileManager.default.createFile(atPath: "\(directory)/\(name)", contents: Data([options]) + bytes) else {
            FuzzSupport.fail("cannot write \(directory)/\(name)")
        }
    }
    let three: [[UInt8]] = (0..<3).map { i in (0..<40).map { UInt8(truncatingIfNeeded: i &* 31 &+ $0) } }
    seed("complete", options: 0, segments: three, finish: true)
    seed("interrupted", options: 2, segments: three, finish: false)
    seed("part", options: 1, segments: three, finish: false, part: 1, first: 7)
    seed("empty", options: 0, segments: [], finish: true, maxSegment: 1)
    seed("one-byte", options: 0, segments: [[0x55]], finish: true, maxSegment: 1)
    print("wrote 5 seeds to \(directory)")
}
