import CallVaultAudio
import CallVaultModel
import CallVaultTestSupport
import Testing

@testable import CallVaultRecorder

@Suite("Consent gate")
struct ConsentGateTests {
    private func gate(_ mode: ConsentMode, disclosure: Bool = false) -> ConsentGate {
        ConsentGate(policy: ConsentPolicy(mode: mode, requireDisclosure: disclosure, consentDigit: .one, optOutDigit: .nine))
    }

    @Test func optInWritesNothingBeforeConsentAndStopsOnRevoke() throws {
        var g = gate(.optIn)
        #expect(!g.admits && g.phase == .waiting)
        try g.apply(.disclosure, method: .pipeline, atMs: 0)
        #expect(!g.admits)
        let consent = try g.apply(.consent, method: .api, atMs: 3000)
        #expect(g.admits && consent.recordingAfter && consent.timelineMs == 3000)
        try g.apply(.revoke, method: .api, atMs: 5000)
        #expect(!g.admits && g.phase == .stopped)
        #expect(throws: ConsentError(.nothingToRevoke, "there is no consent to revoke (nothing is being recorded)")) {
            try g.apply(.revoke, method: .api, atMs: 5100)
        }
        // The caller may change their mind again.
        try g.apply(.consent, method: .verbal, atMs: 6000)
        #expect(g.admits)
    }

    @Test func optInDenyStopsAndRevokeBeforeConsentIsRefused() throws {
        var g = gate(.optIn)
        #expect(throws: ConsentError.self) { try g.apply(.revoke, method: .api, atMs: 10) }
        try g.apply(.deny, method: .api, atMs: 20)
        #expect(!g.admits && g.phase == .stopped)
    }

    @Test func optOutRecordsAfterDisclosureAndStopsOnObjection() throws {
        var g = gate(.optOut)
        #expect(!g.admits)
        try g.apply(.disclosure, method: .pipeline, atMs: 100)
        #expect(g.admits && g.phase == .recording)
        try g.apply(.deny, method: .dtmf, atMs: 900)
        #expect(!g.admits)
        var early = gate(.optOut)
        try early.apply(.revoke, method: .api, atMs: 0)
        #expect(early.phase == .stopped)
        try early.apply(.disclosure, method: .pipeline, atMs: 10)
        #expect(!early.admits, "a disclosure after an objection must not start recording")
    }

    @Test func notRequiredRecordsFromTheStartAndKeepsObjectionsAsEvidence() throws {
        var g = gate(.notRequired)
        #expect(g.admits)
        let deny = try g.apply(.deny, method: .api, atMs: 10)
        #expect(g.admits && deny.recordingAfter)
        try g.apply(.revoke, method: .api, atMs: 20)
        #expect(g.admits)
        try g.apply(.pause, method: .api, atMs: 30)
        #expect(!g.admits)
    }

    @Test func requiredDisclosureComesBeforeConsent() throws {
        var g = gate(.optIn, disclosure: true)
        #expect(throws: ConsentError.self) { try g.apply(.consent, method: .api, atMs: 0) }
        #expect(!g.admits && g.phase == .waiting, "a refused event changes nothing")
        try g.apply(.disclosure, method: .pipeline, atMs: 1)
        try g.apply(.consent, method: .api, atMs: 2)
        #expect(g.admits)
    }

    @Test func pauseAndResumeWithholdAudioAndReportTheSpan() throws {
        var g = gate(.optIn)
        try g.apply(.consent, method: .api, atMs: 0)
        try g.apply(.pause, method: .api, atMs: 4000)
        #expect(!g.admits && g.isPaused)
        #expect(throws: ConsentError.self) { try g.apply(.pause, method: .api, atMs: 4100) }
        let resume = try g.apply(.resume, method: .api, atMs: 9000)
        #expect(resume.closedPause == PausedSpan(startMs: 4000, endMs: 9000))
        #expect(g.admits)
        #expect(throws: ConsentError.self) { try g.apply(.resume, method: .api, atMs: 9100) }
        // A pause before consent keeps nothing recording after consent until resumed.
        var early = gate(.optIn)
        try early.apply(.pause, method: .api, atMs: 0)
        try early.apply(.consent, method: .api, atMs: 10)
        #expect(!early.admits)
        try early.apply(.resume, method: .api, atMs: 20)
        #expect(early.admits)
    }

    @Test func digitsMapThroughTheTenantPolicy() throws {
        var g = gate(.optIn)
        #expect(try g.apply(digit: .five, atMs: 0) == nil)
        let nine = try #require(try g.apply(digit: .nine, atMs: 10))
        #expect(nine.kind == .deny && nine.method == .dtmf)
        let one = try #require(try g.apply(digit: .one, atMs: 20))
        #expect(one.kind == .consent && g.admits)
        let revoke = try #require(try g.apply(digit: .nine, atMs: 30))
        #expect(revoke.kind == .revoke && !g.admits)
    }

    @Test func nothingAppliesAfterTheEndAndAnOpenPauseIsClosed() throws {
        var g = gate(.optIn)
        try g.apply(.consent, method: .api, atMs: 0)
        try g.apply(.pause, method: .api, atMs: 500)
        #expect(g.end(atMs: 800) == PausedSpan(startMs: 500, endMs: 800))
        #expect(!g.admits)
        for kind in ConsentEventKind.allCases {
            #expect(throws: ConsentError.self) { try g.apply(kind, method: .api, atMs: 900) }
        }
    }

    /// Property: over random interleavings of events and frames, a frame is admitted exactly when an
    /// independent replay of the accepted-event log says it may be — so none outside a window is.
    @Test(arguments: ConsentMode.allCases)
    func noFrameOutsideAnAllowedWindowIsEverAdmitted(mode: ConsentMode) throws {
        var random = SeededRandom(seed: 0x5EED_0000 + UInt64(mode.rawValue.count))
        for run in 0..<2_000 {
            let requireDisclosure = random.next() % 2 == 0
            var g = ConsentGate(policy: ConsentPolicy(mode: mode, requireDisclosure: requireDisclosure))
            var log: [ConsentEventKind] = []  // accepted events, as the reference sees them
            var time: Int64 = 0
            for _ in 0..<40 {
                time += 20
                if random.next() % 3 == 0 {
                    let kind = ConsentEventKind.allCases[Int(random.next() % UInt64(ConsentEventKind.allCases.count))]
                    let expected = Reference.accepts(kind, log: log, mode: mode, requireDisclosure: requireDisclosure)
                    do {
                        try g.apply(kind, method: .api, atMs: time)
                        #expect(expected, "run \(run): \(kind) accepted after \(log) in \(mode)")
                        log.append(kind)
                    } catch {
                        #expect(!expected, "run \(run): \(kind) refused after \(log) in \(mode): \(error)")
                    }
                } else {
                    let allowed = Reference.allows(log: log, mode: mode)
                    #expect(g.admits == allowed, "run \(run): frame at \(time) after \(log) in \(mode)")
                    if g.admits != allowed { return }
                }
            }
        }
    }
}

/// The rules restated over the log of accepted events (not over the gate's state), for the property test.
enum Reference {
    static func paused(_ log: [ConsentEventKind]) -> Bool {
        log.filter { $0 == .pause }.count > log.filter { $0 == .resume }.count
    }

    /// Whether consent holds: the last decisive event started recording.
    static func consentHolds(_ log: [ConsentEventKind], mode: ConsentMode) -> Bool {
        if mode == .notRequired { return true }
        let decisive = log.last { kind in
            kind == .consent || kind == .deny || kind == .revoke || (mode == .optOut && kind == .disclosure)
        }
        guard let decisive else { return false }
        if decisive == .disclosure {
            // In opt-out a disclosure starts recording only if no objection came before it.
            return !log.contains(.deny) && !log.contains(.revoke) || log.lastIndex(of: .consent).map { c in
                !log[c...].contains(.deny) && !log[c...].contains(.revoke)
            } == true
        }
        return decisive == .consent
    }

    static func allows(log: [ConsentEventKind], mode: ConsentMode) -> Bool {
        consentHolds(log, mode: mode) && !paused(log)
    }

    static func accepts(_ kind: ConsentEventKind, log: [ConsentEventKind], mode: ConsentMode, requireDisclosure: Bool)
        -> Bool
    {
        switch kind {
        case .disclosure, .deny: return true
        case .consent: return !requireDisclosure || log.contains(.disclosure)
        case .pause: return !paused(log)
        case .resume: return paused(log)
        case .revoke:
            if mode == .notRequired || consentHolds(log, mode: mode) { return true }
            // Opt-out: an objection before anything decisive happened stops the call.
            return mode == .optOut && !log.contains { [.disclosure, .consent, .deny, .revoke].contains($0) }
        }
    }
}
