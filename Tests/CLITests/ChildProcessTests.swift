import CallVaultTestSupport
import Foundation
import Testing

/// The shared child-process runner itself: a chatty child does not deadlock, a hung one is killed.
@Suite(.timeLimit(.minutes(15))) struct ChildProcessTests {
    static let shell = URL(fileURLWithPath: "/bin/sh")

    @Test func childrenRunToTheEndLeaveNoDescriptorsOpen() throws {
        // A full test run starts thousands of children; each left four pipe ends open before, and
        // Foundation's `Process.run` crashed once the process held over a thousand descriptors.
        func openDescriptors() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count }
        let before = try openDescriptors()
        for _ in 0..<100 {
            let output = try ChildProcess.run(Self.shell, ["-c", "echo out; echo err >&2"])
            #expect(output.stdout == "out\n" && output.stderr == "err\n")
        }
        // Other suites open and close descriptors meanwhile: a leak of four per child is 400.
        let grown = try openDescriptors() - before
        #expect(grown < 100, "\(grown) more descriptors open after 100 children")
    }

    @Test func aChildWritingMoreThanAPipeBufferToBothStreamsFinishes() throws {
        // 1 MB to each stream, stderr first: reading one pipe to its end before the other would hang.
        let output = try ChildProcess.run(
            Self.shell,
            ["-c", "head -c 1000000 /dev/zero >&2; head -c 1000000 /dev/zero; echo done >&2"],
            timeout: .seconds(30)
        )
        #expect(output.status == 0 && !output.signalled)
        #expect(output.stdout.utf8.count == 1_000_000)
        #expect(output.stderr.utf8.count == 1_000_005 && output.stderr.hasSuffix("done\n"))
    }

    @Test func aChildPastItsDeadlineIsKilledAndTheErrorEndsWithItsStderr() throws {
        let started = ContinuousClock.now
        let error = #expect(throws: ChildProcessError.self) {
            try ChildProcess.run(
                Self.shell,
                ["-c", "echo about to hang >&2; exec sleep 30"],
                timeout: .milliseconds(500)
            )
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(error?.description.contains("did not exit within") == true)
        #expect(error?.description.contains("about to hang") == true, "\(error?.description ?? "")")
    }

    @Test func linesAreWaitedForAndAnEarlyExitIsReported() throws {
        // A grandchild holds the pipes (and what Foundation watches for the exit) for 10 s after the kill.
        let child = try ChildProcess(Self.shell, ["-c", "sleep 10 & echo one; echo two; exec sleep 30"])
        defer { child.send(SIGKILL) }
        #expect(try child.waitForLine("two") { $0 == "two" } == "two")
        let started = ContinuousClock.now
        let killed = try child.stop(SIGKILL)
        #expect(killed.signalled && killed.status == SIGKILL)
        #expect(ContinuousClock.now - started < .seconds(8), "the exit is seen before the grandchild's")
        #expect(killed.stdout == "one\ntwo\n")

        let quitter = try ChildProcess(Self.shell, ["-c", "echo bye >&2; exit 3"])
        let error = #expect(throws: ChildProcessError.self) {
            try quitter.waitForLine("a line it never prints") { $0 == "never" }
        }
        #expect(error?.description.contains("exited (status 3)") == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("bye") == true)
    }
}
