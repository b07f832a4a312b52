import Testing
@testable import CallVaultAudio

@Suite struct FrameRingTests {
    @Test func framesHaveTwentyMillisecondsOfSamples() {
        for rate in SampleRate.allCases {
            let ring = FrameRing(sampleRate: rate, capacity: 2)
            #expect(ring.next(timestampMs: 0).samples.count == rate.rawValue / 50)
        }
    }

    @Test func slotsAreReusedAfterCapacity() {
        let ring = FrameRing(sampleRate: .hz8000, capacity: 3)
        let first = ring.next(timestampMs: 0)
        _ = ring.next(timestampMs: 20)
        let third = ring.next(timestampMs: 40)
        let fourth = ring.next(timestampMs: 60)
        #expect(fourth.samples.baseAddress == first.samples.baseAddress)
        #expect(third.samples.baseAddress != first.samples.baseAddress)
        #expect(fourth.timestampMs == 60)
    }

    @Test func unsupportedRateIsATypedError() {
        #expect(throws: AudioError.self) { try SampleRate(hertz: 44_100) }
        do {
            _ = try SampleRate(hertz: 11_025)
            Issue.record("11025 Hz was accepted")
        } catch {
            #expect(error.code == .unsupportedSampleRate)
            #expect(error.message.contains("11025"))
        }
    }
}
