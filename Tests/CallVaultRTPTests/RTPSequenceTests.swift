import Testing

@testable import CallVaultRTP

@Suite struct RTPSequenceTests {
    @Test func extendsAcrossTheWrap() {
        var sequence = RTPSequence(minSequential: 1)
        #expect(sequence.update(65_534) == .advanced(extended: 65_534))
        #expect(sequence.update(65_535) == .advanced(extended: 65_535))
        #expect(sequence.update(0) == .advanced(extended: 65_536))
        #expect(sequence.update(65_535) == .behind(extended: 65_535))  // reordered across the wrap
        #expect(sequence.update(1) == .advanced(extended: 65_537))
        #expect(sequence.update(1) == .behind(extended: 65_537))  // duplicate
    }

    @Test func probationDropsUntilInOrder() {
        var sequence = RTPSequence(minSequential: 2)
        #expect(sequence.update(100) == .probation)
        #expect(sequence.update(101) == .advanced(extended: 101))
        #expect(sequence.update(102) == .advanced(extended: 102))
    }

    @Test func bigJumpsCostOnePacketThenResync() {
        for jump: UInt16 in [1 << 15, 40_000, 5_000] {
            var sequence = RTPSequence(minSequential: 1)
            _ = sequence.update(10)
            _ = sequence.update(11)
            let far = 11 &+ jump
            #expect(sequence.update(far) == .jumped)
            guard case .advanced(let extended) = sequence.update(far &+ 1) else {
                Issue.record("no resync after a jump of \(jump)")
                continue
            }
            #expect(extended > 11)
            #expect(sequence.update(far &+ 2) == .advanced(extended: extended + 1))
        }
    }

    @Test func aSingleStrayPacketDoesNotMoveTheStream() {
        var sequence = RTPSequence(minSequential: 1)
        _ = sequence.update(1000)
        #expect(sequence.update(30_000) == .jumped)
        #expect(sequence.update(1001) == .advanced(extended: 1001))
    }

    @Test func replayWindow() {
        var window = RTPReplayWindow()
        #expect(window.check(5) == .new)
        window.mark(5)
        #expect(window.check(5) == .duplicate)
        window.mark(100)
        #expect(window.check(36) == .tooOld)
        #expect(window.check(37) == .new)
        window.mark(37)
        #expect(window.check(37) == .duplicate)
        #expect(window.check(101) == .new)
    }
}
