import CallVaultAudio
import CallVaultStore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension RecordingExporter {
    /// The extensions ``write(_:sampleRate:channels:to:actor:tenantID:subjectID:details:)`` knows.
    public static let fileExtensions = ["wav", "flac", "ogg", "opus"]

    /// Writes exported audio to `path` (format by extension) and audits it `recording.exported`; the
    /// file appears under its name only once the entry is written.
    ///
    /// The audio goes to a temporary file beside `path` (same directory, so the last step is an atomic
    /// link), is synced, then the entry is appended, then the file is linked to its name. If the entry
    /// cannot be written the temporary file is removed and the export fails: no exported audio exists
    /// without its evidence. Auditing after the write rather than before keeps the log free of exports
    /// that never happened for the common failures (a full disk, a bad extension); if only the final
    /// link fails, the entry stays as a record of the attempt and the message says so. A crash in
    /// between leaves a hidden `.NAME.partial-…` file, never a file under the name asked for.
    /// - Parameters:
    ///   - samples: interleaved PCM16 (for stereo: left, right, ...).
    ///   - subjectID: the recording's id, or the call's for a call's stereo export.
    ///   - details: more details for the entry (the file's name is added as `file`).
    public func write(
        _ samples: [Int16], sampleRate: Int, channels: Int, to path: String, actor: String, tenantID: String,
        subjectID: String, details: [String: String] = [:]
    ) async throws(RecorderError) {
        let url = URL(fileURLWithPath: path)
        let name = url.lastPathComponent
        let fileExtension = url.pathExtension.lowercased()
        guard Self.fileExtensions.contains(fileExtension) else {
            throw RecorderError(.invalidArgument, "\(path): unknown extension (use .wav, .flac, .ogg or .opus)")
        }
        guard access(path, F_OK) != 0 else {
            throw RecorderError(.outputExists, "\(path) exists; CallVault does not overwrite files")
        }
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let temporary = url.deletingLastPathComponent().appendingPathComponent(
            ".\(name).partial-\(suffix).\(fileExtension)"
        ).path
        do {
            let writer = try AudioFileWriter(path: temporary, sampleRate: sampleRate, channels: channels)
            try writer.write(samples)
            try writer.close()
        } catch {
            unlink(temporary)
            throw RecorderError(
                error.code == .unsupportedFormat ? .invalidArgument : .ioFailed,
                error.message.replacingOccurrences(of: temporary, with: path))
        }
        guard Self.sync(temporary) else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw RecorderError(.ioFailed, "\(path): cannot sync the exported file (\(reason)); no file was left")
        }
        var entry = details
        entry["file"] = name
        do {
            _ = try await catalog.audit.append(
                AuditEvent(
                    actor: actor, action: .recordingExported, tenantID: tenantID, subjectID: subjectID, details: entry))
        } catch {
            unlink(temporary)
            throw RecorderError(
                .auditFailed, "the export could not be audited, so no file was left at \(path): \(error.message)")
        }
        try Self.moveIntoPlace(temporary, path)
    }

    /// Gives the synced temporary file its name without replacing an existing file (`link` fails on
    /// one atomically), and syncs the directory so the name survives a crash.
    private static func moveIntoPlace(_ temporary: String, _ path: String) throws(RecorderError) {
        let attempt = " (the audit log's recording.exported entry records this attempt; no file was left)"
        if link(temporary, path) != 0 {
            let linkError = errno
            // A file system without hard links: check, then rename (not atomic against a racing writer).
            if linkError == EEXIST || access(path, F_OK) == 0 {
                unlink(temporary)
                throw RecorderError(.outputExists, "\(path) exists; it was not replaced" + attempt)
            }
            guard rename(temporary, path) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(temporary)
                throw RecorderError(.ioFailed, "cannot move the export to \(path): \(reason)" + attempt)
            }
        } else {
            unlink(temporary)
        }
        let directory = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    /// Flushes a written file to disk (libsndfile closes without syncing).
    private static func sync(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return fsync(descriptor) == 0
    }
}
