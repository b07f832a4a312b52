// Measures the sweeper at scale: builds a synthetic data directory with N expired recordings
// (one real prototype made through the product's APIs, then cloned in bulk by SQL), runs one
// sweep, and prints how long it took. Worst case on purpose: the recordings expired earlier today,
// so their day key is still live and every data key is destroyed one by one, not by its day key.
//
//   scripts/sweep-scale [N [BATCH]]   (default 1,000,000 recordings, the sweeper's default batch)
import CallVaultCrypto
import CallVaultModel
import CallVaultRetention
import CallVaultStore
import Foundation
import GRDB
import Logging

let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
let root = FileManager.default.temporaryDirectory.appendingPathComponent("callvault-sweep-scale-\(getpid())").path
defer { try? FileManager.default.removeItem(atPath: root) }
let directory = DataDirectory(path: root)
var logger = Logger(label: "sweep-scale")
logger.logLevel = .warning

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

do {
    let setupStart = ContinuousClock.now
    try directory.create()
    try FileRootKey(path: directory.rootKeyPath).create()
    let keyStore = try KeyStore(dataDirectory: directory, logger: logger)
    let catalog = try Catalog(path: directory.catalogPath)
    var policy = TenantPolicy()
    policy.voiceDays = 1
    let tenantID = try catalog.addTenant(name: "scale", policy: policy).tenant.id
    try keyStore.createTenant(tenantID)

    // Now is 12:00 UTC on a fixed day; recordings were made yesterday at 06:00, expired today at 06:00.
    let now = Date(timeIntervalSince1970: Double(1_790_000_000 - 1_790_000_000 % 86_400 + 43_200))
    let createdAt = now.addingTimeInterval(-30 * 3600)
    let call = try catalog.registerCall(tenantID: tenantID, externalID: "prototype", startedAt: createdAt)
    let prototype = try catalog.createRecording(
        id: "r0", callID: call.id, track: .caller, codec: .g711u, sampleRate: 8000, path: "recordings/r0.cvr",
        createdAt: createdAt)
    let today = CalendarDay(secondsSince1970: Int64(now.timeIntervalSince1970))
    _ = try keyStore.newDataKey(tenantID: tenantID, ownerID: "r0", kind: .voice, expiresOn: today)

    // Clone the prototype call, recording and data key N-1 times in one transaction per database.
    let clone = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(count - 1))"
    let catalogQueue = try DatabaseQueue(path: directory.catalogPath)
    try catalogQueue.write { db in
        try db.execute(
            sql: """
                \(clone) INSERT INTO calls (id, tenant_id, external_id, started_at)
                SELECT 'c' || i, tenant_id, 'x' || i, started_at FROM n, calls WHERE calls.id = ?
                """, arguments: [call.id])
        try db.execute(
            sql: """
                \(clone) INSERT INTO recordings (id, call_id, tenant_id, track, state, codec, sample_rate,
                    duration_ms, bytes, created_at, expires_at, hold, restricted, path)
                SELECT 'r' || i, 'c' || i, tenant_id, track, 'complete', codec, sample_rate, 60000, 480000,
                    created_at, expires_at, 0, 0, 'recordings/r' || i || '.cvr'
                FROM n, recordings WHERE recordings.id = ?
                """, arguments: [prototype.id])
    }
    let keyQueue = try DatabaseQueue(path: directory.keyStorePath)
    try keyQueue.write { db in
        try db.execute(
            sql: """
                \(clone) INSERT INTO data_key (owner_id, tenant_id, key_id, kind, expires_on, held,
                    wrapping_key_id, wrapped, created_at)
                SELECT 'r' || i, tenant_id, key_id || '-' || i, kind, expires_on, 0, wrapping_key_id, wrapped,
                    created_at
                FROM n, data_key WHERE owner_id = 'r0'
                """)
    }
    try catalogQueue.close()
    try keyQueue.close()
    print(String(format: "set-up: %d expired recordings (catalog + key store) in %.1f s", count, seconds(since: setupStart)))

    var sweeper = Sweeper(catalog: catalog, keyStore: keyStore, dataDirectory: directory, logger: logger)
    if CommandLine.arguments.count > 2, let batch = Int(CommandLine.arguments[2]) { sweeper.batchSize = batch }
    let start = ContinuousClock.now
    let report = try await sweeper.sweep(now: now)
    let elapsed = seconds(since: start)
    print(report.summary)
    print(
        String(
            format: "sweep: %d recordings shredded in %.1f s (%.0f recordings/s; goal: 1,000,000 in <= 60 s)",
            report.recordingsShredded.count, elapsed, Double(report.recordingsShredded.count) / elapsed))
    guard report.recordingsShredded.count == count, report.failures.isEmpty else {
        print("sweep-scale: error: expected \(count) recordings shredded without failures")
        exit(1)
    }
} catch {
    print("sweep-scale: error: \(error)")
    exit(1)
}
