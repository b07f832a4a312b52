import CallVaultModel
import CallVaultObjects
import CallVaultStore
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Destroys recordings and transcripts: keys first, then files, then catalog rows, a batch at a time.
///
/// The order is the safety argument. Once an item's data key is gone, every copy of its sealed file
/// (backups included) is unreadable, so the key goes first; a run killed after that leaves at worst
/// an unreadable file and an unmarked row, which the next run finds and finishes. Each step is
/// idempotent. Used by the sweeper (reason `expired`) and by data-subject erasure (`erased`).
struct Shredder {
    let catalog: any CatalogStore
    let keyStore: KeyStore
    let dataDirectory: DataDirectory
    /// Where uploaded files are: each item's objects (every part, every version) are deleted too.
    var objects: (any ObjectStore)? = nil
    let logger: Logger
    let actor: String
    let reason: DataKeyStatus.ShredReason
    /// The reason the catalog's audit entries give, when it says more than the key's (`redacted`).
    var auditReason: String? = nil

    /// What one batch did.
    struct Outcome {
        var shredded: [String] = []
        var dataKeysDestroyed = 0
        /// What the key store did above the destroyed keys (erasure regenerates provider-wrapped day keys).
        var keys = DataKeyDestruction()
        var filesDeleted = 0
        var bytesFreed: Int64 = 0
        var failures: [SweepReport.Failure] = []
    }

    /// Shreds one batch of items of one kind in one key-store and one catalog transaction. An item
    /// whose key is held (catalog and key store disagree after a crash mid-hold) or whose file cannot
    /// be deleted is reported and skipped; catalog or key-store outages throw.
    func shred(_ batch: ArraySlice<SealedItem>, at now: Date) async throws(RetentionError) -> Outcome {
        var outcome = Outcome()
        guard let kind = batch.first?.kind else { return outcome }
        let keys: DataKeyDestruction
        do {
            keys = try keyStore.destroyDataKeys(
                owners: batch.map { (ownerID: $0.id, tenantID: $0.tenantID) }, reason: reason)
        } catch {
            throw RetentionError(.keyStoreFailed, "cannot destroy data keys: \(error.message)")
        }
        outcome.dataKeysDestroyed = keys.destroyed
        outcome.keys = keys
        let held = Set(keys.held)
        var done: [String] = []
        done.reserveCapacity(batch.count)
        for item in batch {
            if held.contains(item.id) {
                fail(item, "its data key is under legal hold in the key store; clear or set the hold again", &outcome)
                continue
            }
            do throws(RetentionError) {
                for file in files(of: item) {
                    if unlink(file.path) != 0 && errno != ENOENT {
                        throw RetentionError(
                            .fileDeletionFailed, "cannot delete \(file.path): \(String(cString: strerror(errno)))")
                    }
                    outcome.filesDeleted += 1
                    outcome.bytesFreed += file.bytes
                }
                if let objects {
                    for object in try await self.objects(of: item, in: objects) {
                        do { try await objects.delete(object.key) } catch {
                            throw RetentionError(.fileDeletionFailed, "cannot delete the object: \(error.message)")
                        }
                        outcome.filesDeleted += 1
                        outcome.bytesFreed += Int64(object.size)
                    }
                }
                done.append(item.id)
            } catch {
                fail(item, error.message, &outcome)
            }
        }
        do {
            switch kind {
            case .recording:
                _ = try await catalog.markRecordingsShredded(
                    ids: done, actor: actor, reason: auditReason ?? reason.rawValue, at: now)
            case .transcript:
                _ = try await catalog.markTranscriptsShredded(
                    ids: done, actor: actor, reason: auditReason ?? reason.rawValue, at: now)
            }
        } catch {
            throw RetentionError(.catalogFailed, "cannot mark \(done.count) \(kind)(s) shredded: \(error.message)")
        }
        outcome.shredded = done
        return outcome
    }

    private func fail(_ item: SealedItem, _ reason: String, _ outcome: inout Outcome) {
        outcome.failures.append(.init(recordingID: item.id, reason: reason))
        logger.error(
            "could not shred; the next run retries it",
            metadata: ["\(item.kind)": "\(item.id)", "reason": "\(reason)"]
        )
    }

    /// The objects of an item in the store: its key (the catalog path) and its later parts' keys, found
    /// by one listing of `<id>.` beside it.
    func objects(of item: SealedItem, in store: any ObjectStore) async throws(RetentionError) -> [ObjectInfo] {
        guard !item.path.hasPrefix("/") else { return [] }
        let stem = item.path.hasSuffix(".cvr") ? String(item.path.dropLast(4)) : item.path
        do {
            return try await store.list(prefix: stem + ".").filter {
                $0.key == item.path || ($0.key.hasPrefix(stem + ".part") && $0.key.hasSuffix(".cvr"))
            }
        } catch {
            throw RetentionError(.fileDeletionFailed, "cannot list the objects of \(item.kind) \(item.id): \(error.message)")
        }
    }

    /// The sealed files of an item: its first part at `path` (`<id>.cvr`) and the parts a crash
    /// started after it beside it (`<id>.part1.cvr`, `<id>.part2.cvr`, ...). Probed by name, so the cost
    /// does not grow with the number of files in the directory.
    func files(of item: SealedItem) -> [(path: String, bytes: Int64)] {
        let first = dataDirectory.resolve(item.path)
        let stem = first.hasSuffix(".cvr") ? String(first.dropLast(4)) : first
        var result: [(path: String, bytes: Int64)] = []
        var part = 0
        while true {
            let path = part == 0 ? first : "\(stem).part\(part).cvr"
            var info = stat()
            guard lstat(path, &info) == 0 else {
                // A missing part 0 (already deleted by an interrupted run) may still have later parts.
                if part == 0 {
                    part = 1
                    continue
                }
                break
            }
            if (info.st_mode & S_IFMT) == S_IFREG { result.append((path, Int64(info.st_size))) }
            part += 1
        }
        return result
    }
}
