import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// The webhook outbox through ``CatalogStore/webhooks``, the same on SQLite and PostgreSQL: rows written
/// with the changes they report (only for tenants with an endpoint), ids and metadata only, claimed in
/// order per call with a lease, retried, dead-lettered and redelivered.
extension CatalogConformance {
    @Suite("Catalog conformance: webhook outbox (SQLite and PostgreSQL)")
    struct WebhookOutboxConformanceTests {
        static func endpoint(_ tenant: Tenant, url: String = "https://hooks.example.com/callvault?k=1")
            -> WebhookEndpoint
        {
            WebhookEndpoint(
                tenantId: tenant.id,
                url: url,
                allowPrivate: false,
                secret: .init(id: "s1", wrapped: Array(repeating: 7, count: 61)),
                updatedAt: Date()
            )
        }

        static func payload(_ delivery: WebhookDelivery) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(delivery.payload.utf8)) as? [String: Any])
        }

        @Test(arguments: Backend.all)
        func aCallsChangesQueueTheirEventsOnlyForATenantWithAnEndpointWithIdsAndMetadataOnly(_ backend: Backend)
            async throws
        {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let quiet = try await fixture.tenant("quiet")
                let acme = try await fixture.tenant("acme")
                try await catalog.webhooks.setEndpoint(Self.endpoint(acme), actor: "test", at: Date())
                let stored = try #require(try await catalog.webhooks.endpoint(tenantID: acme.id))
                #expect(
                    stored.url == Self.endpoint(acme).url && stored.secret == Self.endpoint(acme).secret
                        && !stored.allowPrivate
                )
                #expect(stored.previousSecret == nil && stored.previousUntil == nil)
                #expect(try await catalog.webhooks.endpoint(tenantID: quiet.id) == nil)
                let keys = CallerKeys(
                    hashKey: try .init(randomByteCount: 32),
                    encryptionKey: try .init(randomByteCount: 32)
                )

                for tenant in [quiet, acme] {
                    let call = try await catalog.registerCall(
                        tenantID: tenant.id,
                        externalID: "CA-\(tenant.name)",
                        callerNumber: "+4930123456789",
                        startedAt: Date(),
                        actor: "test",
                        callerKeys: keys
                    )
                    _ = try await catalog.recordConsentEvent(
                        callID: call.id,
                        kind: .consent,
                        method: .dtmf,
                        at: Date(),
                        frameIndex: 100,
                        timelineMs: 2000,
                        actor: "test"
                    )
                    let recording = try await catalog.createRecording(
                        id: nil,
                        callID: call.id,
                        track: .caller,
                        codec: .g711u,
                        sampleRate: 8000,
                        path: "r-\(tenant.name).cvr",
                        createdAt: Date(),
                        node: nil,
                        storage: nil
                    )
                    _ = try await catalog.completeRecording(
                        id: recording.id,
                        durationMs: 3000,
                        bytes: 48_096,
                        transcriptionEngine: "whisper",
                        at: Date()
                    )
                    _ = try await catalog.setHold(
                        recordingID: recording.id,
                        held: true,
                        reason: "case 17 of Jane Doe",
                        actor: "test",
                        at: Date()
                    )
                    try await catalog.endCall(id: call.id, closingPause: nil, at: Date())
                }
                let rows = try await catalog.webhooks.deliveries(tenantID: nil, state: nil, limit: 100).reversed()
                #expect(rows.allSatisfy { $0.tenantId == acme.id }, "the tenant without an endpoint got no rows")
                #expect(
                    rows.map(\.type) == [.callStarted, .consentGranted, .recordingCompleted, .holdSet, .callEnded],
                    "\(rows.map(\.type.rawValue))"
                )
                #expect(rows.allSatisfy { $0.state == .pending && $0.attempts == 0 && $0.callId == rows.first?.callId })
                #expect(rows.allSatisfy { $0.id.hasPrefix("msg_") })
                for row in rows {
                    #expect(!row.payload.contains("30123456789") && !row.payload.contains("Jane"), "\(row.payload)")
                    let body = try Self.payload(row)
                    #expect(body["type"] as? String == row.type.rawValue)
                    let data = try #require(body["data"] as? [String: Any])
                    #expect(data["tenantId"] as? String == acme.id && data["callId"] as? String == row.callId)
                }
                let completed = try Self.payload(Array(rows)[2])["data"] as? [String: Any]
                #expect(completed?["durationMs"] as? Int == 3000 && completed?["track"] as? String == "caller")
                #expect(completed?["bytes"] as? Int == 48_096 && completed?["recordingId"] != nil)
                #expect(try await catalog.webhooks.pendingCount() == 5)
                // The configuration is audited without the secret or the URL's query.
                let configured = try await catalog.audit.entries().first { $0.action == .webhookConfigured }
                #expect(
                    configured?.details.contains("hooks.example.com") == true
                        && configured?.details.contains("k=1") == false
                )
            }
        }

        @Test(arguments: Backend.all)
        func aCallsEventsAreClaimedInOrderWithALeaseRetriedDeadLetteredAndRedelivered(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let webhooks = catalog.webhooks
                let acme = try await fixture.tenant("acme")
                try await webhooks.setEndpoint(Self.endpoint(acme), actor: "test", at: Date())
                let first = try await fixture.call(of: acme, "CA-1")
                let second = try await fixture.call(of: acme, "CA-2")
                try await catalog.endCall(id: first.id, closingPause: nil, at: Date())
                let lease = Duration.seconds(60)

                // One row per call: each call's earliest (call.started); its call.ended waits behind it.
                let batch = try await webhooks.claim(owner: "node-a", limit: 10, lease: lease)
                #expect(
                    batch.map(\.type) == [.callStarted, .callStarted] && batch.map(\.callId) == [first.id, second.id]
                )
                #expect(batch.allSatisfy { $0.attempts == 1 })
                // Leased: another node gets nothing, not even the waiting call.ended.
                #expect(try await webhooks.claim(owner: "node-b", limit: 10, lease: lease).isEmpty)

                // A failure puts it back with its backoff; the later event still waits for it.
                let failed = try await webhooks.markFailed(
                    id: batch[0].id,
                    owner: "node-a",
                    error: "the receiver answered 500",
                    retryAfter: .milliseconds(400)
                )
                #expect(failed)
                let again = try await webhooks.markFailed(
                    id: batch[0].id,
                    owner: "node-a",
                    error: "again",
                    retryAfter: nil
                )
                #expect(again == false, "not held any more")
                #expect(try await webhooks.claim(owner: "node-b", limit: 10, lease: lease).isEmpty, "still backing off")
                try await Task.sleep(for: .milliseconds(500))
                let retried = try await webhooks.claim(owner: "node-b", limit: 10, lease: lease)
                #expect(retried.map(\.id) == [batch[0].id] && retried.first?.attempts == 2)
                #expect(try await webhooks.markDelivered(id: batch[0].id, owner: "node-b"))
                #expect(try await webhooks.markDelivered(id: batch[1].id, owner: "node-b") == false, "node-a holds it")
                #expect(try await webhooks.markDelivered(id: batch[1].id, owner: "node-a"))

                // Now the first call's call.ended is due; it is dead-lettered, then redelivered.
                let ended = try await webhooks.claim(owner: "node-a", limit: 10, lease: lease)
                #expect(ended.map(\.type) == [.callEnded])
                let deadLettered = try await webhooks.markFailed(
                    id: ended[0].id,
                    owner: "node-a",
                    error: "no answer within 10 s",
                    retryAfter: nil
                )
                #expect(deadLettered)
                let dead = try await webhooks.deliveries(tenantID: acme.id, state: .dead, limit: 10)
                #expect(dead.map(\.id) == [ended[0].id] && dead.first?.lastError == "no answer within 10 s")
                #expect(try await webhooks.deliveries(tenantID: acme.id, state: .delivered, limit: 10).count == 2)
                #expect(try await webhooks.pendingCount() == 0)
                try await Task.sleep(for: .milliseconds(10))
                let rearmed = try await webhooks.redeliver(id: ended[0].id)
                #expect(rearmed.state == .pending && rearmed.attempts == 0 && rearmed.payload == ended[0].payload)
                #expect(rearmed.armedAt > ended[0].armedAt)
                let pendingAgain = await catalogError { try await webhooks.redeliver(id: ended[0].id) }
                #expect(pendingAgain?.code == .invalidArgument)
                // An expired lease lets another node take a row over (at least once).
                let taken = try await webhooks.claim(owner: "node-a", limit: 10, lease: .milliseconds(300))
                #expect(taken.map(\.id) == [ended[0].id])
                #expect(try await webhooks.claim(owner: "node-b", limit: 10, lease: lease).isEmpty, "still leased")
                try await Task.sleep(for: .milliseconds(400))
                let takenOver = try await webhooks.claim(owner: "node-b", limit: 10, lease: lease)
                #expect(takenOver.map(\.id) == [ended[0].id] && takenOver.first?.attempts == 2)

                // Removing the endpoint dead-letters what waits; later changes queue nothing.
                try await webhooks.removeEndpoint(tenantID: acme.id, actor: "test", at: Date())
                #expect(try await webhooks.pendingCount() == 0)
                _ = try await fixture.call(of: acme, "CA-3")
                #expect(try await webhooks.deliveries(tenantID: acme.id, state: nil, limit: 10).count == 3)
            }
        }

        @Test(arguments: Backend.all)
        func aFailedTranscriptionAttemptAndADeadJobQueueTheirEvents(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                try await catalog.webhooks.setEndpoint(Self.endpoint(acme), actor: "test", at: Date())
                let call = try await fixture.call(of: acme)
                let recording = try await catalog.createRecording(
                    id: nil,
                    callID: call.id,
                    track: .caller,
                    codec: .g711u,
                    sampleRate: 8000,
                    path: "r.cvr",
                    createdAt: Date(),
                    node: nil,
                    storage: nil
                )
                _ = try await catalog.completeRecording(
                    id: recording.id,
                    durationMs: 1000,
                    bytes: 100,
                    transcriptionEngine: "whisper",
                    at: Date()
                )
                let policy = JobRetryPolicy(
                    maximumAttempts: 2,
                    baseDelay: .milliseconds(1),
                    maximumDelay: .milliseconds(1)
                )
                for _ in 0..<2 {
                    let claimed = try await catalog.queue.claim(
                        workerID: "w",
                        engines: nil,
                        limit: 1,
                        lease: .seconds(60)
                    )
                    let lease = try #require(claimed.first?.lease)
                    _ = try await catalog.queue.fail(lease, error: "engine crashed on /tmp/secret-path", policy: policy)
                    try await Task.sleep(for: .milliseconds(20))
                }
                let rows = try await catalog.webhooks.deliveries(tenantID: acme.id, state: nil, limit: 10).reversed()
                #expect(
                    rows.map(\.type) == [.callStarted, .recordingCompleted, .transcriptFailed, .jobDead],
                    "\(rows.map(\.type.rawValue))"
                )
                #expect(rows.allSatisfy { !$0.payload.contains("secret-path") }, "the job's error is not sent")
            }
        }

        @Test(arguments: Backend.all)
        func transcriptsShreddingAndDataSubjectRequestsQueueTheirEventsThroughTheAuditAppend(_ backend: Backend)
            async throws
        {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                try await catalog.webhooks.setEndpoint(Self.endpoint(acme), actor: "test", at: Date())
                let call = try await fixture.call(of: acme)
                let recording = try await catalog.createRecording(
                    id: nil,
                    callID: call.id,
                    track: .bot,
                    codec: .g711u,
                    sampleRate: 8000,
                    path: "r.cvr",
                    createdAt: Date(),
                    node: nil,
                    storage: nil
                )
                try await catalog.finishRecording(id: recording.id, state: .interrupted, durationMs: 500, bytes: 10)
                try await catalog.insertTranscript(
                    TranscriptRecord(
                        id: "t-1",
                        callId: call.id,
                        tenantId: acme.id,
                        engine: "whisper",
                        path: "t.cvt",
                        createdAt: Date(),
                        expiresAt: Date().addingTimeInterval(86_400)
                    ),
                    actor: "test",
                    details: ["words": "12"]
                )
                _ = try await catalog.markRecordingsShredded(
                    ids: [recording.id],
                    actor: "test",
                    reason: "erased",
                    at: Date()
                )
                _ = try await catalog.audit.append(
                    AuditEvent(
                        actor: "test",
                        action: .subjectExported,
                        tenantID: acme.id,
                        subjectID: "export-1",
                        details: ["calls": "1"]
                    )
                )
                _ = try await catalog.audit.append(
                    AuditEvent(
                        actor: "test",
                        action: .subjectErased,
                        tenantID: acme.id,
                        subjectID: "ER-42",
                        details: ["calls": call.id, "recordingsErased": "1", "transcriptsErased": "0"]
                    )
                )
                let rows = Array(
                    try await catalog.webhooks.deliveries(tenantID: acme.id, state: nil, limit: 20).reversed()
                )
                #expect(
                    rows.map(\.type) == [
                        .callStarted, .recordingInterrupted, .transcriptCompleted, .recordingShredded, .subjectExported,
                        .subjectErased,
                    ],
                    "\(rows.map(\.type.rawValue))"
                )
                #expect(rows[3].callId == call.id, "a recording's event carries its call")
                #expect(rows[4].callId == nil && rows[5].callId == nil)
                let erased = try #require(try Self.payload(rows[5])["data"] as? [String: Any])
                #expect(erased["confirmationCode"] as? String == "ER-42" && erased["recordingsErased"] as? Int == 1)
                let transcript = try #require(try Self.payload(rows[2])["data"] as? [String: Any])
                #expect(transcript["transcriptId"] as? String == "t-1" && transcript["engine"] as? String == "whisper")
                #expect(transcript["words"] == nil, "audit details are not copied wholesale")
            }
        }

        @Test(arguments: Backend.all)
        func aStorageGapsAuditEntryQueuesRecordingStorageGapWithItsCallAndCounts(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                try await catalog.webhooks.setEndpoint(Self.endpoint(acme), actor: "test", at: Date())
                let call = try await fixture.call(of: acme)
                let recording = try await catalog.createRecording(
                    id: nil, callID: call.id, track: .caller, codec: .g711u, sampleRate: 8000, path: "r.cvr",
                    createdAt: Date(), node: nil, storage: nil)
                _ = try await catalog.audit.append(
                    AuditEvent(
                        actor: "recorder", action: .recordingStorageGap, tenantID: acme.id, subjectID: recording.id,
                        details: [
                            "track": "caller", "reason": "diskFull", "lostMs": "3000", "afterMs": "2000", "segments": "3",
                            "resumed": "true",
                        ]))
                let rows = Array(try await catalog.webhooks.deliveries(tenantID: acme.id, state: nil, limit: 20).reversed())
                #expect(rows.map(\.type) == [.callStarted, .recordingStorageGap], "\(rows.map(\.type.rawValue))")
                let gap = try #require(rows.last)
                #expect(gap.callId == call.id, "ordered with its call's other events")
                let payload = try Self.payload(gap)
                #expect(payload["type"] as? String == "recording.storage_gap")
                let data = try #require(payload["data"] as? [String: Any])
                #expect(data["recordingId"] as? String == recording.id && data["callId"] as? String == call.id)
                #expect(data["lostMs"] as? Int == 3000 && data["afterMs"] as? Int == 2000 && data["segments"] as? Int == 3)
                #expect(data["reason"] as? String == "diskFull" && data["resumed"] as? String == "true")
                #expect(data["track"] as? String == "caller")
            }
        }

        @Test(arguments: Backend.all)
        func aRedactedCopysCheckQueuesRecordingRedactedWithCountsAndNoReason(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                try await catalog.webhooks.setEndpoint(Self.endpoint(acme), actor: "test", at: Date())
                let call = try await fixture.call(of: acme)
                let original = try await fixture.recording(of: call, createdAt: Date())
                try await catalog.finishRecording(id: original.id, state: .complete, durationMs: 6_000, bytes: 900)
                let redaction = RecordingRedaction(
                    detectorVersion: "callvault-redaction-1", paddingMs: 250,
                    spans: [.init(startMs: 750, endMs: 2_950, kinds: ["cardNumber"])])
                for (id, passed) in [("copy-ok", true), ("copy-bad", false)] {
                    _ = try await catalog.createRedactedRecording(
                        originalID: original.id, id: id, path: "\(id).cvr", storage: nil, redaction: redaction)
                    try await catalog.recordRedactionVerification(
                        copyID: id, passed: passed, actor: "test",
                        details: ["track": "caller", "kinds": "cardNumber", "spans": "1", "silencedMs": "2200",
                                  "reason": "segment 3 is not silent inside a redacted span"],
                        at: Date())
                }
                let rows = Array(try await catalog.webhooks.deliveries(tenantID: acme.id, state: nil, limit: 20).reversed())
                let redacted = try #require(rows.first { $0.type == .recordingRedacted })
                #expect(redacted.callId == call.id)
                let data = try #require(try Self.payload(redacted)["data"] as? [String: Any])
                #expect(data["recordingId"] as? String == "copy-ok" && data["originalRecordingId"] as? String == original.id)
                #expect(data["spans"] as? Int == 1 && data["silencedMs"] as? Int == 2_200 && data["kinds"] as? String == "cardNumber")
                let failed = try #require(rows.first { $0.type == .recordingRedactionFailed })
                let failedData = try #require(try Self.payload(failed)["data"] as? [String: Any])
                #expect(failedData["recordingId"] as? String == original.id && failedData["reason"] == nil)
            }
        }

        @Test(arguments: Backend.all)
        func twoNodesClaimingAtOnceNeverGetTheSameRow(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let acme = try await fixture.tenant("acme")
                try await catalog.webhooks.setEndpoint(Self.endpoint(acme), actor: "test", at: Date())
                for index in 0..<12 { _ = try await fixture.call(of: acme, "CA-\(index)") }
                let webhooks = catalog.webhooks
                async let a = webhooks.claim(owner: "node-a", limit: 8, lease: .seconds(60))
                async let b = webhooks.claim(owner: "node-b", limit: 8, lease: .seconds(60))
                let (first, second) = try await (a, b)
                #expect(Set(first.map(\.id)).isDisjoint(with: second.map(\.id)))
                #expect(first.count + second.count == 12, "\(first.count) + \(second.count)")
            }
        }
    }
}
