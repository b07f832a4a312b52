import CallVaultArchive
import CallVaultAudio
import CallVaultModel
import CallVaultRecorder
import CallVaultTestSupport
import Foundation
import Logging
import Testing

@testable import CallVaultRetention

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Subject export", .timeLimit(.minutes(15)))
struct SubjectExportTests {
    let t0 = Date(timeIntervalSince1970: 1_780_000_000)
    let caller = "+44 20 7946 0000"
    /// Every spelling of the number that must never be found in an archive or the audit log.
    let spellings = ["+44 20 7946 0000", "+442079460000", "442079460000", "2079460000", "7946 0000", "79460000"]

    static let samples = Repository.samples

    /// The first `seconds` of a sample file, whole 20 ms frames only (what the recorder keeps).
    static func audio(_ file: String, seconds: Int) throws -> [Int16] {
        Array(try AudioFileReader(path: samples + "/" + file).readAllMono().prefix(seconds * 8000))
    }

    /// Records a call through the real recorder (consent not required, PCM16 so samples compare exactly).
    func recordCall(
        _ fixture: RetentionFixture, caller: [Int16]?, bot: [Int16]?, number: String?, startedAt: Date
    ) throws -> String {
        let callID = try fixture.catalog.registerCall(
            tenantID: fixture.tenantID, externalID: "CA-\(UUID().uuidString.prefix(8))", callerNumber: number,
            startedAt: startedAt, callerKeys: number == nil ? nil : fixture.keyStore.callerKeys(tenantID: fixture.tenantID)
        ).id
        let recorder = CallRecorder(
            callID: callID, settings: .init(policy: ConsentPolicy(mode: .notRequired), storageCodec: .pcm16),
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory, flushGroup: nil,
            logger: Logger(label: "test"))
        let ring = FrameRing(sampleRate: .hz8000)
        let frames = max(caller?.count ?? 0, bot?.count ?? 0) / 160
        for index in 0..<frames {
            for (track, audio) in [(RecordingTrack.caller, caller), (.bot, bot)] {
                guard let audio else { continue }
                let frame = ring.next(timestampMs: Int64(index) * 20)
                for i in 0..<160 {
                    let at = index * 160 + i
                    frame.samples[i] = at < audio.count ? audio[at] : 0
                }
                try recorder.receive(frame, track: track)
            }
        }
        try recorder.finish(atMs: Int64(frames) * 20)
        return callID
    }

    func exporter(_ fixture: RetentionFixture) -> SubjectExport {
        SubjectExport(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory,
            logger: Logger(label: "test"))
    }

    /// Runs a program, returning its exit status and output (stdout, then stderr).
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let output = try ChildProcess.run(URL(fileURLWithPath: program), arguments, timeout: .seconds(120))
        return (output.status, output.stdout + output.stderr)
    }

    /// Checks the archive with `unzip -t` and Python's zipfile, then extracts it; returns the folder.
    static func unpack(_ zip: String) throws -> String {
        let test = try run("/usr/bin/unzip", ["-t", zip])
        #expect(test.status == 0, "unzip -t: \(test.output)")
        let python = try run(
            "/usr/bin/env",
            ["python3", "-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(len(z.namelist()))", zip])
        #expect(python.status == 0, "python zipfile: \(python.output)")
        let folder = zip + ".unpacked"
        let unzip = try run("/usr/bin/unzip", ["-q", "-o", zip, "-d", folder])
        #expect(unzip.status == 0, "unzip: \(unzip.output)")
        return folder
    }

    /// An audit entry's details (a JSON object of strings).
    static func details(_ entry: AuditEntry) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(entry.details.utf8))) ?? [:]
    }

    /// The two channels of a stereo file (each read by its own reader: a reader reads its file once).
    static func channels(_ path: String) throws -> (left: [Int16], right: [Int16]) {
        (try AudioFileReader(path: path).readAll(.channel(0)), try AudioFileReader(path: path).readAll(.channel(1)))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test("exports one caller's two calls — stereo audio, transcript, consent, manifest — and nothing of another caller")
    func exportsOneCaller() async throws {
        let fixture = try RetentionFixture(voiceDays: 30)
        let callerAudio = try Self.audio("caller.flac", seconds: 6)
        let botAudio = try Self.audio("bot.flac", seconds: 8)
        let first = try recordCall(fixture, caller: callerAudio, bot: botAudio, number: caller, startedAt: t0)
        let second = try recordCall(
            fixture, caller: Array(callerAudio.prefix(16_000)), bot: nil, number: "+442079460000",
            startedAt: days(1, after: t0))
        let other = try recordCall(
            fixture, caller: callerAudio, bot: botAudio, number: "+44 20 7946 0999", startedAt: t0)
        try fixture.catalog.recordConsentEvent(callID: first, kind: .consent, method: .dtmf, at: t0, timelineMs: 40)
        try fixture.catalog.addPausedSpan(callID: first, startMs: 2000, endMs: 2500)
        let transcript = Transcript(
            callId: first, engine: "whisper", language: "en", createdAt: "2026-06-01T00:00:00Z", audioMs: 14_000,
            segments: Transcript.merge([
                ("caller", [TranscriptSegment(startMs: 0, endMs: 900, text: "Yes, that's fine.", words: [])])
            ]))
        let sealed = try await TranscriptStore(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory
        ).seal(transcript, tenantID: fixture.tenantID, actor: "test")

        let zip = fixture.root + "/subject.zip"
        let receipt = try await exporter(fixture).export(tenantID: fixture.tenantID, phoneNumber: caller, to: zip)
        #expect(receipt.calls == [first, second])
        #expect(receipt.recordingsIncluded == 3 && receipt.transcriptsIncluded == 1)
        #expect(receipt.recordingsShredded == 0 && receipt.recordingsRestricted == 0)

        // Mode 0600, no temporary file left beside it, no number anywhere in the bytes.
        let attributes = try FileManager.default.attributesOfItem(atPath: zip)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root).filter { $0.contains("partial") }.isEmpty)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: zip))
        for spelling in spellings { #expect(bytes.range(of: Data(spelling.utf8)) == nil, "found \(spelling)") }

        let folder = try Self.unpack(zip)
        let manifest = try Self.decode(SubjectExportManifest.self, folder + "/manifest.json")
        #expect(manifest.version == 1 && manifest.format == "callvault.subject-export")
        #expect(manifest.caller == "the caller whose number was given")
        #expect(manifest.tenantId == fixture.tenantID && manifest.exportId == receipt.exportId)
        #expect(manifest.calls.map(\.id) == [first, second])
        #expect(!manifest.calls.contains { $0.id == other })
        #expect(!FileManager.default.fileExists(atPath: folder + "/calls/\(other)"))
        let firstEntry = manifest.calls[0]
        #expect(Set(firstEntry.files) == ["calls/\(first)/audio.wav", "calls/\(first)/transcript-whisper.json", "calls/\(first)/consent.json"])
        #expect(firstEntry.recordings.allSatisfy { $0.status == .included })
        #expect(firstEntry.transcripts.map(\.id) == [sealed.id] && firstEntry.transcripts[0].status == .included)
        #expect(firstEntry.audio?.channels == 2 && firstEntry.audio?.left == "caller")

        // Stereo, caller left and bot right, aligned from the call's start.
        let wav = try AudioFileReader(path: folder + "/calls/\(first)/audio.wav")
        #expect(wav.channels == 2 && wav.sampleRate == 8000)
        let (left, right) = try Self.channels(folder + "/calls/\(first)/audio.wav")
        #expect(left.count == botAudio.count / 160 * 160)
        #expect(Array(left.prefix(callerAudio.count)) == callerAudio)
        #expect(left.dropFirst(callerAudio.count).allSatisfy { $0 == 0 })
        #expect(Array(right.prefix(botAudio.count / 160 * 160)) == Array(botAudio.prefix(botAudio.count / 160 * 160)))

        // Only a caller track: the bot channel is silent.
        let single = try AudioFileReader(path: folder + "/calls/\(second)/audio.wav")
        #expect(single.channels == 2)
        let singleChannels = try Self.channels(folder + "/calls/\(second)/audio.wav")
        #expect(singleChannels.left == Array(callerAudio.prefix(16_000)))
        #expect(singleChannels.right.allSatisfy { $0 == 0 })

        let exportedTranscript = try JSONDecoder().decode(
            Transcript.self,
            from: Data(contentsOf: URL(fileURLWithPath: folder + "/calls/\(first)/transcript-whisper.json")))
        #expect(exportedTranscript == transcript)
        let consent = try Self.decode(SubjectExportConsent.self, folder + "/calls/\(first)/consent.json")
        #expect(consent.events.map(\.kind) == ["consent"] && consent.events[0].method == "dtmf")
        #expect(consent.events[0].timelineMs == 40)
        #expect(consent.pausedSpans.map(\.startMs) == [2000] && consent.pausedSpans[0].endMs == 2500)
        let secondConsent = try Self.decode(SubjectExportConsent.self, folder + "/calls/\(second)/consent.json")
        #expect(secondConsent.events.isEmpty && secondConsent.pausedSpans.isEmpty)

        // Audited: each decryption, and the export with counts — never the number.
        let entries = try fixture.catalog.auditLog.entries()
        let exported = try #require(entries.last { $0.action == .subjectExported })
        #expect(exported.subjectId == receipt.exportId)
        #expect(Self.details(exported)["bytes"] == String(bytes.count) && receipt.bytes == UInt64(bytes.count))
        #expect(Self.details(exported)["recordingsIncluded"] == "3" && Self.details(exported)["transcriptsIncluded"] == "1")
        #expect(entries.filter { $0.action == .recordingDecrypted && Self.details($0)["purpose"] == "subject export" }.count == 3)
        #expect(entries.contains { $0.action == .transcriptDecrypted && $0.subjectId == sealed.id })
        for entry in entries {
            let text = entry.details + (entry.subjectId ?? "")
            for spelling in spellings { #expect(!text.contains(spelling)) }
        }
        #expect(try fixture.catalog.auditLog.verify().isIntact)
    }

    @Test("shredded items are listed as shredded; a restricted recording needs the audited override")
    func shreddedAndRestricted() async throws {
        let fixture = try RetentionFixture(voiceDays: 30)
        let callerAudio = try Self.audio("caller.flac", seconds: 3)
        let botAudio = try Self.audio("bot.flac", seconds: 3)
        let call = try recordCall(fixture, caller: callerAudio, bot: botAudio, number: caller, startedAt: t0)
        let recordings = try fixture.catalog.recordings(inCalls: [call])
        let callerTrack = try #require(recordings.first { $0.track == .caller })
        let botTrack = try #require(recordings.first { $0.track == .bot })
        let transcript = try fixture.transcript(of: botTrack, at: t0, days: 365)
        let shredder = Shredder(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory,
            logger: Logger(label: "test"), actor: "test", reason: .erased)
        _ = try await shredder.shred([SealedItem(botTrack)][...], at: t0)
        _ = try await shredder.shred([SealedItem(transcript)][...], at: t0)
        try fixture.catalog.setRestricted(recordingID: callerTrack.id, true, reason: "caller contests accuracy")
        let transcriptOfRestricted = try await TranscriptStore(
            catalog: fixture.catalog, keyStore: fixture.keyStore, dataDirectory: fixture.directory
        ).seal(
            Transcript(callId: call, engine: "whisper", language: nil, createdAt: "2026-06-01T00:00:00Z", audioMs: 3000, segments: []),
            tenantID: fixture.tenantID, actor: "test")

        // Without the override: nothing decrypted, the restricted one and the shredded ones listed.
        let plain = fixture.root + "/plain.zip"
        let receipt = try await exporter(fixture).export(tenantID: fixture.tenantID, phoneNumber: caller, to: plain)
        #expect(receipt.recordingsIncluded == 0 && receipt.recordingsRestricted == 1 && receipt.recordingsShredded == 1)
        #expect(receipt.transcriptsShredded == 1)
        var manifest = try Self.decode(SubjectExportManifest.self, try Self.unpack(plain) + "/manifest.json")
        var entry = try #require(manifest.calls.first)
        #expect(entry.audio == nil && entry.files == ["calls/\(call)/consent.json"])
        #expect(entry.recordings.first { $0.id == botTrack.id }?.status == .shredded)
        #expect(entry.recordings.first { $0.id == callerTrack.id }?.status == .restricted)
        #expect(entry.recordings.allSatisfy { $0.reason != nil })
        #expect(entry.transcripts.first { $0.id == transcript.id }?.status == .shredded)
        #expect(entry.transcripts.first { $0.id == transcriptOfRestricted.id }?.status == .restricted)
        #expect(entry.transcripts.allSatisfy { $0.file == nil } && receipt.transcriptsRestricted == 1)
        #expect(try !fixture.catalog.auditLog.entries().contains { $0.action == .transcriptDecrypted })
        #expect(try !fixture.catalog.auditLog.entries().contains { $0.action == .restrictionOverridden || $0.action == .recordingDecrypted })

        // With it: the caller's audio is included and the override audited with its reason.
        let overridden = fixture.root + "/overridden.zip"
        let second = try await exporter(fixture).export(
            tenantID: fixture.tenantID, phoneNumber: caller, to: overridden,
            options: .init(includeRestricted: true))
        #expect(second.recordingsIncluded == 1 && second.restrictionsOverridden == 1 && second.recordingsRestricted == 0)
        let folder = try Self.unpack(overridden)
        manifest = try Self.decode(SubjectExportManifest.self, folder + "/manifest.json")
        entry = try #require(manifest.calls.first)
        #expect(manifest.restrictedIncluded)
        let included = try #require(entry.recordings.first { $0.id == callerTrack.id })
        #expect(included.status == .included && included.restrictionOverridden == true)
        #expect(entry.transcripts.first { $0.id == transcriptOfRestricted.id }?.status == .included)
        #expect(FileManager.default.fileExists(atPath: folder + "/calls/\(call)/transcript-whisper.json"))
        let (left, right) = try Self.channels(folder + "/calls/\(call)/audio.wav")
        #expect(left == callerAudio)
        #expect(right.allSatisfy { $0 == 0 })
        let override = try #require(try fixture.catalog.auditLog.entries().last { $0.action == .restrictionOverridden })
        #expect(override.subjectId == callerTrack.id)
        #expect(Self.details(override)["reason"] == SubjectExport.defaultOverrideReason)
        #expect(Self.details(override)["export"] == second.exportId)
    }

    @Test("an unknown number is a clear error and writes no file")
    func unknownNumber() async throws {
        let fixture = try RetentionFixture()
        _ = try recordCall(fixture, caller: try Self.audio("caller.flac", seconds: 1), bot: nil, number: caller, startedAt: t0)
        let zip = fixture.root + "/none.zip"
        let before = try FileManager.default.contentsOfDirectory(atPath: fixture.root)
        do {
            _ = try await exporter(fixture).export(tenantID: fixture.tenantID, phoneNumber: "+1 555 0100", to: zip)
            Issue.record("an unknown number was exported")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.message.contains("no call from the caller whose number was given"))
            // (Not just "555": the tenant's id in the message is a random UUID that may contain it.)
            #expect(!error.message.contains("+1 555 0100") && !error.message.contains("15550100"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root) == before)
        await #expect(throws: RetentionError.self) {
            try await exporter(fixture).export(tenantID: "no-such-tenant", phoneNumber: caller, to: zip)
        }
        #expect(!FileManager.default.fileExists(atPath: zip))
    }

    @Test("an existing output file is refused unless overwriting was asked for")
    func existingOutput() async throws {
        let fixture = try RetentionFixture()
        _ = try recordCall(fixture, caller: try Self.audio("caller.flac", seconds: 1), bot: nil, number: caller, startedAt: t0)
        let zip = fixture.root + "/exists.zip"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: zip))
        do {
            _ = try await exporter(fixture).export(tenantID: fixture.tenantID, phoneNumber: caller, to: zip)
            Issue.record("an existing file was replaced")
        } catch {
            #expect(error.code == .outputExists)
        }
        #expect(try String(contentsOfFile: zip, encoding: .utf8) == "keep me")
        #expect(try !fixture.catalog.auditLog.entries().contains { $0.action == .subjectExported })
        let receipt = try await exporter(fixture).export(
            tenantID: fixture.tenantID, phoneNumber: caller, to: zip, options: .init(overwrite: true))
        #expect(receipt.recordingsIncluded == 1)
        let attributes = try FileManager.default.attributesOfItem(atPath: zip)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try Self.run("/usr/bin/unzip", ["-t", zip]).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root).filter { $0.contains("partial") }.isEmpty)
    }

    @Test("the ZIP writer's CRC-32 and DOS time, and an abandoned archive leaves nothing")
    func zipWriter() throws {
        #expect(StoredZipWriter.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        let (time, date) = StoredZipWriter.dosDateTime(Date(timeIntervalSince1970: 1_780_000_000))
        // 2026-05-28 20:26:40 UTC
        #expect(date == UInt16((2026 - 1980) << 9 | 5 << 5 | 28) && time == UInt16(20 << 11 | 26 << 5 | 20))
        let fixture = try RetentionFixture()
        let path = fixture.root + "/abandoned.zip"
        do {
            let writer = try StoredZipWriter(destination: path, modified: Date())
            try writer.add("a.txt", Array("hello".utf8))
            #expect(FileManager.default.fileExists(atPath: writer.temporaryPath))
            #expect(throws: RetentionError.self) { try writer.add("../escape", []) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root) == ["data"])
    }
}
