import CallVaultModel
public import CallVaultObjects
public import CallVaultStore
public import Foundation
import CallVaultCrypto

/// The audit log's chain head, written as objects next to the sealed files, so that a database rewritten
/// later cannot hide a rewritten audit history (`audit verify --against-objects`).
///
/// Each anchor is written twice: `audit/heads/<seq>.json`, once and never replaced (`If-None-Match: *`,
/// so a bucket with Object Lock in compliance mode keeps every one of them), and `audit/head.json`, the
/// latest, replaced each time so a check finds it in one read. An anchor holds the entry's sequence
/// number and hash, never details. Any later rewrite of an entry at or before the anchored one changes
/// the anchored entry's hash (each hash covers the one before), and a cut-off tail loses it.
public struct AuditAnchors: Sendable {
    public static let latestKey = "audit/head.json"
    public static let historyPrefix = "audit/heads/"

    public let audit: any AuditStore
    public let objects: any ObjectStore

    public init(audit: any AuditStore, objects: any ObjectStore) {
        self.audit = audit
        self.objects = objects
    }

    /// One anchored head.
    public struct Anchor: Codable, Sendable, Equatable {
        public let seq: Int64
        /// The entry's hash, lowercase hex.
        public let hash: String
        public let at: Date
    }

    /// What comparing the newest anchor with the log found.
    public enum Check: Sendable, Equatable {
        /// The log holds the anchored entry with the anchored hash.
        case matches(Anchor)
        /// No anchor was written yet.
        case noAnchor
        /// The log lacks the anchored entry, or holds another hash for it: history was rewritten or cut.
        case mismatch(Anchor, reason: String)
    }

    public static func historyKey(_ seq: Int64) -> String {
        historyPrefix + String(repeating: "0", count: max(0, 20 - String(seq).count)) + String(seq) + ".json"
    }

    /// The newest anchor, or nil when none was written.
    public func latest() async throws(ObjectStoreError) -> Anchor? {
        let bytes: [UInt8]
        do { bytes = try await objects.get(Self.latestKey) } catch {
            guard error.code == .notFound else { throw error }
            return nil
        }
        guard let anchor = try? Self.decoder.decode(Anchor.self, from: Data(bytes)) else {
            throw ObjectStoreError(.invalidResponse, "\(objects.location): \(Self.latestKey) is not an audit anchor")
        }
        return anchor
    }

    /// Anchors the log's current head if it moved past `previous` (nil: read the newest anchor first);
    /// returns the head anchored now, or `previous` when the log did not move.
    public func anchor(after previous: Anchor?) async throws -> Anchor? {
        var last = previous
        if last == nil { last = try await latest() }
        var head: AuditEntry?
        while true {
            let page = try await audit.entries(tenantID: nil, afterSeq: head?.seq ?? last?.seq ?? 0, limit: 1000)
            guard let end = page.last else { break }
            head = end
        }
        guard let head else { return last }
        let anchor = Anchor(seq: head.seq, hash: Hex.encode(Array(head.hash)), at: Date())
        let bytes = Array(try Self.encoder.encode(anchor))
        do throws(ObjectStoreError) {
            _ = try await objects.put(Self.historyKey(anchor.seq), bytes: bytes, options: PutOptions(onlyIfAbsent: true))
        } catch {
            // Another node may have anchored the same entry first.
            guard error.code == .alreadyExists else { throw error }
        }
        _ = try await objects.put(Self.latestKey, bytes: bytes)
        last = anchor
        return last
    }

    /// Compares the newest anchor (and its write-once copy) with the log.
    public func check() async throws -> Check {
        guard let anchor = try await latest() else { return .noAnchor }
        let kept: [UInt8]
        do throws(ObjectStoreError) { kept = try await objects.get(Self.historyKey(anchor.seq)) } catch {
            guard error.code == .notFound else { throw error }
            return .mismatch(anchor, reason: "the write-once copy \(Self.historyKey(anchor.seq)) is missing")
        }
        guard (try? Self.decoder.decode(Anchor.self, from: Data(kept)))?.hash == anchor.hash else {
            return .mismatch(anchor, reason: "\(Self.latestKey) and its write-once copy disagree")
        }
        let entry = try await audit.entries(tenantID: nil, afterSeq: anchor.seq - 1, limit: 1).first
        guard let entry, entry.seq == anchor.seq else {
            return .mismatch(
                anchor, reason: "the log has no entry \(anchor.seq), anchored \(anchor.at): its tail was cut")
        }
        guard Hex.encode(Array(entry.hash)) == anchor.hash else {
            return .mismatch(
                anchor,
                reason: "entry \(anchor.seq) has another hash than anchored \(anchor.at): the history up to it was rewritten")
        }
        return .matches(anchor)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
