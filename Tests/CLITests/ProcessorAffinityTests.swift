import Testing

@testable import callvault

/// `serve` runs one event loop per CPU it may run on: the affinity mask counts, not the machine's cores.
@Suite struct ProcessorAffinityTests {
    @Test func theAffinityMaskOfAStatusTextIsCounted() {
        #expect(ProcessorAffinity.allowedCPUCount(status: "Name:\tcallvault\nCpus_allowed:\t1\nCpus_allowed_list:\t0\n") == 1)
        #expect(ProcessorAffinity.allowedCPUCount(status: "Cpus_allowed:\t3\n") == 2)
        #expect(ProcessorAffinity.allowedCPUCount(status: "Cpus_allowed:\tff,00000f0f\n") == 16)
        #expect(ProcessorAffinity.allowedCPUCount(status: "Cpus_allowed:\t0\n") == nil, "an empty mask is no answer")
        #expect(ProcessorAffinity.allowedCPUCount(status: "Cpus_allowed:\tzz\n") == nil)
        #expect(ProcessorAffinity.allowedCPUCount(status: "Name:\tx\n") == nil)
    }

    @Test func anAskedForCountWinsAndTheDefaultIsAtMostWhatThisProcessMayUse() throws {
        #expect(ProcessorAffinity.eventLoopCount(requested: 3) == 3)
        let allowed = try #require(ProcessorAffinity.allowedCPUCount, "Linux has /proc/self/status")
        #expect(ProcessorAffinity.eventLoopCount(requested: nil) <= allowed)
        #expect(ProcessorAffinity.eventLoopCount(requested: nil) >= 1)
    }
}
