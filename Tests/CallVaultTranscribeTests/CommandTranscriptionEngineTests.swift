import CallVaultArchive
import Foundation
import Testing

@testable import CallVaultTranscribe

/// The command engine with real programs: `/bin/sh` scripts the tests write, each recording the
/// directory its input was in so the test can check it is gone.
@Suite("command transcription engine with real programs", .timeLimit(.minutes(15)))
struct CommandTranscriptionEngineTests {
    let samples = [Int16](repeating: 100, count: 8_000)  // 0.5 s

    /// A fresh directory (with a space in its name, to exercise quoting) holding `script` as `run.sh`;
    /// the script finds its input in `$f` (its first argument, any `--in=` prefix removed).
    private func script(_ body: String) throws -> (directory: String, script: String, record: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cv command \(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let record = directory + "/input-dir"
        let path = directory + "/run.sh"
        let text = "#!/bin/sh\nf=\"${1#--in=}\"\ndirname \"$f\" > '\(record)'\n" + body + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        return (directory, path, record)
    }

    private func inputDirectory(_ record: String) throws -> String {
        try String(contentsOfFile: record, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func error(_ body: () throws(TranscriptionError) -> [TranscriptSegment]) -> TranscriptionError? {
        do {
            _ = try body()
            return nil
        } catch { return error }
    }

    @Test func aScriptSeesAPrivateWAVAndItsJSONIsRead() throws {
        let (directory, path, record) = try script(
            """
            [ "$(head -c 4 "$f")" = RIFF ] || exit 9
            d=$(dirname "$f")
            printf '{"segments":[{"start":0.25,"end":0.5,"text":"dir %s file %s bytes %s"}]}' \
              "$(stat -c %a "$d" 2>/dev/null || stat -f %Lp "$d")" \
              "$(stat -c %a "$f" 2>/dev/null || stat -f %Lp "$f")" "$(wc -c < "$f" | tr -d ' ')"
            """)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Quoted on the command line: the path has a space.
        let engine = try CommandTranscriptionEngine(configuration: .init(commandLine: "'\(path)' --in={input}"))
        let segments = try engine.transcribe(samples, options: TranscriptionOptions())

        #expect(engine.name == "command")
        #expect(segments.count == 1)
        #expect(segments.first?.text == "dir 700 file 600 bytes \(44 + samples.count * 2)")
        #expect(segments.first?.startMs == 250)
        #expect(segments.first?.endMs == 500)
        let input = try inputDirectory(record)
        #expect(input.contains("callvault-command-"))
        #expect(!FileManager.default.fileExists(atPath: input))
    }

    @Test func theVocabularyIsAFileBesideTheAudioOnePhrasePerLine() throws {
        let (directory, path, _) = try script(#"tr '\n' '|' < "$2""#)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let engine = try CommandTranscriptionEngine(configuration: .init(commandLine: "'\(path)' {input} {vocabulary}"))
        let segments = try engine.transcribe(samples, options: TranscriptionOptions(vocabulary: ["Zorvex Pro", "Kerkhoven"]))
        #expect(segments.map(\.text) == ["Zorvex Pro|Kerkhoven|"])
        let none = try engine.transcribe(samples, options: TranscriptionOptions())
        #expect(none.isEmpty, "an empty file for no vocabulary")
    }

    @Test func verboseJSONWithWordsIsRead() throws {
        let (directory, path, _) = try script(
            #"printf '{"segments":[{"start":0,"end":1,"text":" Hello there","avg_logprob":-0.5}],"words":[{"word":" Hello","start":0.0,"end":0.4,"probability":0.75},{"word":" there","start":0.4,"end":0.9}]}'"#
        )
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let segments = try CommandTranscriptionEngine(configuration: .init(arguments: ["/bin/sh", path, "{input}"]))
            .transcribe(samples, options: TranscriptionOptions())
        #expect(segments.map(\.text) == ["Hello there"])
        #expect(segments.first?.words.map(\.word) == ["Hello", "there"])
        #expect(segments.first?.words.map(\.endMs) == [400, 900])
        #expect(segments.first?.words.first?.confidence == 0.75)
        #expect(abs((segments.first?.words.last?.confidence ?? 0) - exp(-0.5)) < 1e-9)
    }

    @Test func plainTextIsOneSegmentOverTheWholeAudio() throws {
        let (directory, path, record) = try script("printf 'the call\\n  is recorded\\n'")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // No {input}: the path is appended.
        let segments = try CommandTranscriptionEngine(configuration: .init(arguments: [path]))
            .transcribe(samples, options: TranscriptionOptions())
        #expect(segments == [TranscriptSegment(startMs: 0, endMs: 500, text: "the call is recorded", words: [])])
        #expect(!FileManager.default.fileExists(atPath: try inputDirectory(record)))
    }

    @Test func aNonZeroExitIsEngineFailedNamingTheStatusNotTheOutput() throws {
        let (directory, path, record) = try script("echo 'secret transcript words'\nexit 3")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let failure = error { () throws(TranscriptionError) in
            try CommandTranscriptionEngine(configuration: .init(arguments: [path, "{input}"])).transcribe(samples, options: TranscriptionOptions())
        }
        #expect(failure?.code == .engineFailed)
        #expect(failure?.message.contains("status 3") == true)
        #expect(failure?.message.contains("secret") == false)
        #expect(!FileManager.default.fileExists(atPath: try inputDirectory(record)))
    }

    @Test func aProgramPastItsTimeoutIsKilledWithItsChildren() throws {
        // `sleep` is a child of the shell holding stdout open: only killing the group ends it.
        let (directory, path, record) = try script("sleep 20\necho late")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let started = ContinuousClock.now
        let failure = error { () throws(TranscriptionError) in
            try CommandTranscriptionEngine(configuration: .init(arguments: [path, "{input}"], timeout: 1))
                .transcribe(samples, options: TranscriptionOptions())
        }
        let elapsed = ContinuousClock.now - started
        #expect(failure?.code == .timedOut)
        // Killing only the shell would leave `sleep` holding stdout: the engine would wait 2 s more.
        #expect(elapsed < .milliseconds(2_500))
        #expect(!FileManager.default.fileExists(atPath: try inputDirectory(record)))
    }

    @Test func aMissingProgramIsUnavailable() throws {
        for arguments in [["/nonexistent/callvault-transcriber", "{input}"], ["callvault-no-such-program-\(UUID().uuidString)"]] {
            let failure = error { () throws(TranscriptionError) in
                try CommandTranscriptionEngine(configuration: .init(arguments: arguments)).transcribe(samples, options: TranscriptionOptions())
            }
            #expect(failure?.code == .unavailable)
        }
    }

    @Test func aProgramOnThePathIsFound() throws {
        // `cat` prints the WAV itself: not JSON, not UTF-8 (the RIFF sizes and samples).
        let failure = error { () throws(TranscriptionError) in
            try CommandTranscriptionEngine(configuration: .init(commandLine: "cat {input}"))
                .transcribe([Int16](repeating: -1, count: 100), options: TranscriptionOptions())
        }
        #expect(failure?.code == .badResponse)
    }

    @Test func commandLinesSplitLikeAShell() throws {
        #expect(try CommandTranscriptionEngine.split("whisper-cli -m model.bin -f {input}") == ["whisper-cli", "-m", "model.bin", "-f", "{input}"])
        #expect(try CommandTranscriptionEngine.split(#"  '/opt/my tools/run' "a b" c\ d '' x"y"z  "#) == ["/opt/my tools/run", "a b", "c d", "", "xyz"])
        #expect(try CommandTranscriptionEngine.split(#"sh -c 'echo "$1"' -"#) == ["sh", "-c", #"echo "$1""#, "-"])
        for bad in ["'unclosed", "\"unclosed", "   "] {
            #expect(throws: TranscriptionError.self) { try CommandTranscriptionEngine.split(bad) }
        }
    }
}
