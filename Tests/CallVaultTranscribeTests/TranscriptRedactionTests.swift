import CallVaultArchive
import CallVaultCrypto
import CallVaultModel
import CallVaultRedaction
import CallVaultStore
import CallVaultTestSupport
import Foundation
import MetricsTestKit
import Synchronization
import Testing

@testable import CallVaultTranscribe

/// Redaction in transcription (issue 17): the worker runs the detector over both tracks per the tenant's
/// policy before sealing, so only placeholders and a value-free manifest are ever stored.
@Suite("Transcription: card numbers and e-mails are redacted before the transcript is sealed", .serialized)
struct TranscriptRedactionTests {
    /// What the caller says: a card number in Whisper's digit groups, then an e-mail spoken.
    static let callerLines = [
        (0, "yes my card number is 4111 1111 1111 1111"),
        (6_000, "and my email is jan dot devries at gmail dot com"),
    ]
    static let botLines = [(3_000, "thank you and your email address please")]
    /// What must not survive anywhere: the digit groups as text or as JSON words (quoted, so an id that
    /// happens to hold "1111" is no false alarm), and the address's parts.
    static let values = ["4111 1111", "1111 1111", "\"4111\"", "\"1111\"", "devries", "gmail"]

    /// One utterance with 300 ms words from `startMs`.
    static func segment(_ startMs: Int, _ text: String) -> TranscriptSegment {
        let words = text.split(separator: " ").enumerated().map { index, word in
            TranscriptWord(
                word: String(word),
                startMs: startMs + index * 300,
                endMs: startMs + index * 300 + 250,
                confidence: 0.9
            )
        }
        return TranscriptSegment(startMs: startMs, endMs: words.last?.endMs ?? startMs, text: text, words: words)
    }

    /// A stand-in engine: the caller's lines for the first track it is given (the worker goes caller
    /// first), the bot's for the second.
    final class ScriptedEngine: TranscriptionEngine {
        let name = "scripted"
        let calls = Mutex(0)

        func transcribe(_ samples: [Int16], options: TranscriptionOptions) throws(TranscriptionError)
            -> [TranscriptSegment]
        {
            let first = calls.withLock { count in
                count += 1
                return count == 1
            }
            return (first ? TranscriptRedactionTests.callerLines : TranscriptRedactionTests.botLines)
                .map { TranscriptRedactionTests.segment($0.0, $0.1) }
        }
    }

    /// Records the sample two-track call for `tenantID`, drains the queue with the scripted engine, and
    /// returns the transcript's record, its decrypted JSON and the decoded transcript.
    private func transcribe(_ fixture: TranscriptionFixture, tenantID: String, repeats: Int = 1) async throws
        -> (record: TranscriptRecord, json: String, transcript: Transcript)
    {
        let audio = Array(repeatElement(try TranscriptionFixture.audio("answer.ulaw.wav"), count: repeats).joined())
        let callID = try fixture.recordCall(caller: audio, bot: audio, tenantID: tenantID)
        let summary = try await fixture.drain(makeEngine: { () throws(TranscriptionError) in ScriptedEngine() })
        #expect(summary.done == 1 && summary.failed == 0)
        let record = try #require(try fixture.catalog.transcripts(callID: callID).first)
        // The sealed file itself, decrypted by hand: what is on disk, not what a decoder kept of it.
        let key = try fixture.keyStore.dataKey(ownerID: record.id, tenantID: record.tenantId)
        let reader = try SealedFileReader(
            path: fixture.directory.resolve(record.path),
            dataKey: key,
            expectedTenantID: record.tenantId,
            expectedRecordingID: record.id
        )
        let json = String(decoding: try reader.readAll(), as: UTF8.self)
        let store = TranscriptStore(
            catalog: fixture.catalog,
            keyStore: fixture.keyStore,
            dataDirectory: fixture.directory
        )
        let transcript = try await store.open(id: record.id, actor: "test").transcript
        return (record, json, transcript)
    }

    @Test func aCallersCardNumberAndEmailBecomePlaceholdersWithAManifestAndNoValueIsSealed() async throws {
        let fixture = try TranscriptionFixture()
        let tenantID = try fixture.addTenant(
            "payments",
            policy: TenantPolicy(redact: TenantRedaction(categories: Set(RedactionCategory.allCases)))
        )
        let metrics = sharedTestMetrics
        func count(_ kind: String) -> Int64 {
            (try? metrics.expectCounter("callvault_redactions_total", [("kind", kind)]).totalValue) ?? 0
        }
        let before = (card: count("cardNumber"), email: count("email"))
        let (record, json, transcript) = try await transcribe(fixture, tenantID: tenantID)
        #expect(count("cardNumber") - before.card == 1 && count("email") - before.email == 1, "counted per kind")

        let caller = transcript.segments.filter { $0.speaker == "caller" }
        #expect(caller.map(\.text) == ["yes my card number is [CARD]", "and my email is [EMAIL]"])
        #expect(caller[0].words.map(\.word) == ["yes", "my", "card", "number", "is", "[CARD]"])
        #expect(caller[0].words.last?.startMs == 1_500 && caller[0].words.last?.endMs == 2_650, "the span's times")
        #expect(caller[1].words.map(\.word) == ["and", "my", "email", "is", "[EMAIL]"])
        let bot = transcript.segments.filter { $0.speaker == "bot" }
        #expect(bot.map(\.text) == ["thank you and your email address please"], "the bot's words are kept")

        let redactions = try #require(transcript.redactions)
        #expect(redactions.version == 1 && redactions.detectorVersion == RedactionDetector.version)
        #expect(redactions.categories == [.payment, .bank, .contact, .ids])
        // Both end their utterance: their own track's audio is silenced on to the next utterance (at most 2 s).
        var card = TranscriptRedactions.Span(track: "caller", startMs: 1_500, endMs: 2_650, kind: .cardNumber)
        card.audioEndMs = 4_650
        var email = TranscriptRedactions.Span(track: "caller", startMs: 7_200, endMs: 9_250, kind: .email)
        email.audioEndMs = 11_250
        #expect(redactions.spans == [card, email])
        #expect(json.contains("\"redactions\"") && json.contains("\"kind\":\"cardNumber\""))
        for value in Self.values { #expect(!json.contains(value), "\(value) is in the sealed transcript") }

        // The audit entry counts, and says nothing else of the words.
        let created = try #require(
            try fixture.catalog.auditLog.entries().first {
                $0.action == .transcriptCreated && $0.subjectId == record.id
            }
        )
        #expect(created.details.contains("\"redactions\":\"cardNumber:1,email:1\""), "\(created.details)")
        #expect(created.details.contains("\"redactCategories\":\"pci,bank,contact,ids\""), "\(created.details)")
        for value in Self.values { #expect(!created.details.contains(value)) }
    }

    @Test func theSameSpansAreSilentInBothTracksOfTheRecordedVoice() async throws {
        let fixture = try TranscriptionFixture()
        let tenantID = try fixture.addTenant(
            "voice", policy: TenantPolicy(redact: TenantRedaction(categories: Set(RedactionCategory.allCases))))
        // Ten seconds of speech on both tracks (the sample answer, said six times).
        let (_, _, transcript) = try await transcribe(fixture, tenantID: tenantID, repeats: 6)
        let callID = transcript.callId
        let recordings = try fixture.catalog.recordings(inCalls: [callID])
        let copies = recordings.filter { $0.state != .shredded }
        #expect(recordings.count == 4 && copies.count == 2, "two originals shredded, two redacted copies")
        #expect(copies.allSatisfy { $0.redactedFrom != nil && $0.redaction?.verification == .passed })
        let exporter = RecordingExporter(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory,
            payloadFormat: SegmentPayload.format)
        // The card (1.5–2.65 s) and e-mail (7.2–9.25 s) spans, padded by 250 ms, on the caller's AND the bot's track.
        let silent: [Range<Int>] = [1_250..<2_900, 6_950..<9_500]
        for copy in copies {
            let samples = try await exporter.export(recordingID: copy.id, actor: "test", onTimeline: true).samples
            #expect(samples.count > 9_500 * 8, "the recording keeps its length")
            for span in silent {
                let inside = samples[(span.lowerBound * 8)..<(span.upperBound * 8)]
                #expect(inside.allSatisfy { $0 == 0 }, "\(copy.track) is not silent in \(span)")
            }
            let speech = samples[(3_000 * 8)..<(6_900 * 8)]
            #expect(speech.contains { $0 != 0 }, "the rest of \(copy.track) is kept")
        }
    }

    @Test func aSensitiveWindowFromTheBotRedactsTheCallersWordsAndVoiceInItWhateverTheDetectorSays() async throws {
        let fixture = try TranscriptionFixture()
        // No redaction policy at all: the window alone decides.
        let audio = Array(repeatElement(try TranscriptionFixture.audio("answer.ulaw.wav"), count: 6).joined())
        let callID = try fixture.recordCall(caller: audio, bot: audio, tenantID: fixture.tenantID)
        _ = try fixture.catalog.openSensitiveWindow(callID: callID, atMs: 6_500, source: .api, actor: "t", at: Date())
        _ = try fixture.catalog.closeSensitiveWindow(callID: callID, atMs: 9_500, source: .mark, actor: "t", at: Date())
        let summary = try await fixture.drain(makeEngine: { () throws(TranscriptionError) in ScriptedEngine() })
        #expect(summary.done == 1 && summary.failed == 0)
        let record = try #require(try fixture.catalog.transcripts(callID: callID).first)
        let store = TranscriptStore(catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory)
        let transcript = try await store.open(id: record.id, actor: "test").transcript
        let caller = transcript.segments.filter { $0.speaker == "caller" }
        #expect(caller.map(\.text) == ["yes my card number is 4111 1111 1111 1111", "and [REDACTED]"], "\(caller.map(\.text))")
        let window = try #require(transcript.redactions?.spans.first { $0.kind == .sensitiveWindow })
        #expect(window.track == "caller" && window.startMs == 6_500 && window.endMs == 9_500)
        #expect(transcript.redactions?.categories == [], "the tenant asked for nothing")

        let copies = try fixture.catalog.recordings(inCalls: [callID]).filter { $0.state != .shredded }
        let exporter = RecordingExporter(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory,
            payloadFormat: SegmentPayload.format)
        let callerCopy = try #require(copies.first { $0.track == .caller })
        #expect(callerCopy.redactedFrom != nil, "the caller's voice was re-sealed")
        let callerSamples = try await exporter.export(recordingID: callerCopy.id, actor: "test", onTimeline: true).samples
        #expect(callerSamples[(6_250 * 8)..<(9_750 * 8)].allSatisfy { $0 == 0 }, "the window is silent, padded")
        let bot = try #require(copies.first { $0.track == .bot })
        #expect(bot.redactedFrom == nil, "the bot's voice in the window is kept")
    }

    @Test func aTenantWithoutRedactionGetsItsWordsAsTheyWereAndNoManifest() async throws {
        let fixture = try TranscriptionFixture()
        let (_, json, transcript) = try await transcribe(fixture, tenantID: fixture.tenantID)
        #expect(transcript.redactions == nil && !json.contains("redactions"))
        #expect(transcript.segments.first?.text == "yes my card number is 4111 1111 1111 1111")
        let recordings = try fixture.catalog.recordings(inCalls: [transcript.callId])
        #expect(recordings.count == 2 && recordings.allSatisfy { $0.redactedFrom == nil && $0.state == .complete })
    }

    @Test func onlyTheTenantsCategoriesAreRedacted() {
        let segments = Self.callerLines.map { Self.segment($0.0, $0.1) }
        let contactOnly = TranscriptRedaction.redact(segments, categories: [.contact])
        #expect(
            contactOnly.segments.map(\.text) == [
                "yes my card number is 4111 1111 1111 1111", "and my email is [EMAIL]",
            ]
        )
        #expect(contactOnly.redactions.categories == [.contact] && contactOnly.redactions.counts == [.email: 1])
    }

    @Test func anUtteranceWithoutWordTimingsIsRedactedFromItsText() {
        // A plain-text engine: no words, one utterance spanning the audio.
        let plain = [TranscriptSegment(startMs: 0, endMs: 4_000, text: "card 4111 1111 1111 1111 thanks", words: [])]
        let result = TranscriptRedaction.redact(plain, categories: [.payment])
        #expect(result.segments.map(\.text) == ["card [CARD] thanks"] && result.segments[0].words.isEmpty)
        #expect(result.redactions.spans.map(\.kind) == [.cardNumber])
    }

    @Test func aTranscriptSealedBeforeRedactionStillReads() throws {
        let old =
            #"{"version":1,"callId":"c","engine":"whisper","language":"en","createdAt":"2026-01-01T00:00:00Z","audioMs":1,"segments":[]}"#
        let transcript = try JSONDecoder().decode(Transcript.self, from: Data(old.utf8))
        #expect(transcript.redactions == nil && transcript.callId == "c")
    }
}
