import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

/// Where sealed files are when a directory keeps them in an object store (``SealedStorage``), the same on
/// SQLite and PostgreSQL: what reconcilers list, and the compare-and-set that moves a row along
/// `spooled → uploading → stored`.
extension CatalogConformance {
    @Suite("Catalog conformance: sealed files awaiting upload (SQLite and PostgreSQL)")
    struct CatalogObjectStorageConformanceTests {
        @Test(arguments: Backend.all)
        func closedSpooledFilesAreListedAndMoveOnlyFromTheStateExpected(_ backend: Backend) async throws {
            try await CatalogFixture.with(backend) { fixture in
                let catalog = fixture.catalog
                let tenant = try await fixture.tenant()
                let call = try await fixture.call(of: tenant)
                let local = try await fixture.recording(of: call, .bot)
                let spooled = try await fixture.recording(of: call, storage: .spooled)
                #expect(local.storage == nil && spooled.storage == .spooled)
                #expect(try await catalog.recording(id: spooled.id, tenantID: nil).storage == .spooled)
                #expect(try await catalog.filesAwaitingUpload(limit: 10).isEmpty, "an open recording is uploaded")

                try await catalog.finishRecording(id: local.id, state: .complete, durationMs: 1000, bytes: 100)
                try await catalog.finishRecording(id: spooled.id, state: .interrupted, durationMs: 1000, bytes: 100)
                let transcript = TranscriptRecord(
                    id: "t-spooled", callId: call.id, tenantId: tenant.id, engine: "command", path: "transcripts/t.cvt",
                    createdAt: Date(timeIntervalSince1970: 1_700_000_000), expiresAt: Date(timeIntervalSince1970: 1_800_000_000),
                    storage: .spooled)
                try await catalog.insertTranscript(transcript, actor: "worker")
                #expect(try await catalog.transcript(id: "t-spooled", tenantID: nil) == transcript)

                let waiting = try await catalog.filesAwaitingUpload(limit: 10)
                #expect(
                    waiting == [
                        SpooledFile(kind: .recording, id: spooled.id, tenantID: tenant.id, path: spooled.path, storage: .spooled),
                        SpooledFile(kind: .transcript, id: "t-spooled", tenantID: tenant.id, path: "transcripts/t.cvt", storage: .spooled),
                    ])

                #expect(try await catalog.setStorage(of: .recording, id: spooled.id, to: .uploading, from: [.spooled]))
                #expect(
                    try await !catalog.setStorage(of: .recording, id: spooled.id, to: .uploading, from: [.spooled]),
                    "a second node took an upload another had begun")
                #expect(try await catalog.filesAwaitingUpload(limit: 10).first?.storage == .uploading)
                #expect(try await !catalog.setStorage(of: .recording, id: local.id, to: .stored, from: [.spooled, .uploading]))
                #expect(try await catalog.recording(id: local.id, tenantID: nil).storage == nil, "a local file was moved")
                #expect(try await catalog.setStorage(of: .recording, id: spooled.id, to: .stored, from: [.uploading]))
                #expect(try await catalog.setStorage(of: .transcript, id: "t-spooled", to: .stored, from: [.spooled, .uploading]))
                #expect(try await catalog.filesAwaitingUpload(limit: 10).isEmpty)
                #expect(try await catalog.recording(id: spooled.id, tenantID: nil).storage == .stored)
                #expect(try await catalog.transcript(id: "t-spooled", tenantID: nil).storage == .stored)

                // A shredded row is never moved.
                let shredded = try await fixture.recording(of: call, storage: .spooled)
                try await catalog.finishRecording(id: shredded.id, state: .complete, durationMs: 1, bytes: 1)
                _ = try await catalog.markRecordingsShredded(ids: [shredded.id], actor: "sweeper", reason: "expired", at: Date())
                #expect(try await !catalog.setStorage(of: .recording, id: shredded.id, to: .uploading, from: [.spooled]))
                #expect(try await catalog.filesAwaitingUpload(limit: 10).isEmpty, "a shredded recording is uploaded")
            }
        }
    }
}
