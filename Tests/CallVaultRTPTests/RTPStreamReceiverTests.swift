import Foundation
import CallVaultAudio
import CallVaultSIP
import Testing

@testable import CallVaultRTP

@Suite struct RTPStreamReceiverTests {
    /// μ-law code of packet `i` (distinct, never silence), and what it decodes to.
    static func code(_ i: Int) -> UInt8 { UInt8(0x10 + i % 64) }
    static func value(_ i: Int) -> Int16 { G711.muLawDecodeTable[Int(code(i))] }

    /// Packet `i` of a 20 ms PCMU stream: seq 1000 + i, ts 50_000 + 160 i.
    static func packet(_ i: Int, ssrc: UInt32 = 0xAAAA, seqBase: UInt16 = 1000, tsBase: UInt32 = 50_000) -> [UInt8] {
        rtpPacket(
            pt: 0, seq: seqBase &+ UInt16(i), ts: tsBase &+ UInt32(160 * i), ssrc: ssrc, payload: muLawPayload(code(i)))
    }

    /// The value each frame holds (every sample of a frame is the same here), nil for silence.
    static func frameValues(_ sink: CollectingSink) -> [Int16?] {
        sink.frames.map { frame in
            #expect(Set(frame.samples).count == 1, "a frame mixes two packets")
            return frame.samples[0] == 0 ? nil : frame.samples[0]
        }
    }

    @Test func inOrderStreamBecomesFramesOnTheTimeline() throws {
        let receiver = try pcmuReceiver()
        var sink = CollectingSink()
        for i in 0..<10 { #expect(receiver.receive(Self.packet(i), atMs: UInt64(20 * i), into: &sink) == .audio) }
        // The reorder window (60 ms) holds the last three frames back until flush.
        #expect(sink.frames.count == 7)
        receiver.flush(into: &sink)
        #expect(sink.frames.map(\.timestampMs) == (0..<10).map { Int64(20 * $0) })
        #expect(Self.frameValues(sink) == (0..<10).map { Self.value($0) })
        #expect(receiver.sampleRate == .hz8000)
        #expect(receiver.counters.audioPackets == 10)
        #expect(receiver.counters.frames == 10)
    }

    @Test func reorderedPacketsLandInPlaceAndLateOnesAreDropped() throws {
        let receiver = try pcmuReceiver(window: 40)
        var sink = CollectingSink()
        let order = [0, 2, 1, 3, 5, 4, 6, 7, 8, 9, 10, 11]
        for (n, i) in order.enumerated() { receiver.receive(Self.packet(i), atMs: UInt64(20 * n), into: &sink) }
        // Packet 3 again, long after its frame went out: the sequence number says duplicate first.
        #expect(receiver.receive(Self.packet(3), atMs: 400, into: &sink) == .duplicate)
        receiver.flush(into: &sink)
        #expect(Self.frameValues(sink) == (0..<12).map { Self.value($0) })
        #expect(receiver.counters.late == 0)
        #expect(receiver.counters.duplicates == 1)
    }

    @Test func aPacketOlderThanTheWindowIsDroppedAndItsPlaceIsSilence() throws {
        let receiver = try pcmuReceiver(window: 40)
        var sink = CollectingSink()
        for i in 0..<10 where i != 2 { receiver.receive(Self.packet(i), atMs: UInt64(20 * i), into: &sink) }
        #expect(receiver.receive(Self.packet(2), atMs: 200, into: &sink) == .late)
        receiver.flush(into: &sink)
        var expected: [Int16?] = (0..<10).map { Self.value($0) }
        expected[2] = nil
        #expect(Self.frameValues(sink) == expected)
        #expect(receiver.counters.late == 1)
    }

    @Test func duplicatesAreDropped() throws {
        let receiver = try pcmuReceiver()
        var sink = CollectingSink()
        for i in 0..<5 { receiver.receive(Self.packet(i), atMs: UInt64(20 * i), into: &sink) }
        #expect(receiver.receive(Self.packet(3), atMs: 100, into: &sink) == .duplicate)
        #expect(receiver.receive(Self.packet(4), atMs: 100, into: &sink) == .duplicate)
        receiver.flush(into: &sink)
        #expect(receiver.counters.duplicates == 2)
        #expect(sink.frames.count == 5)
    }

    @Test func gapsAreFilledWithSilenceByTimestamp() throws {
        let receiver = try pcmuReceiver()
        var sink = CollectingSink()
        // Packets 0...4, then DTX: comfort noise, then 10...14 (sequence numbers contiguous).
        for i in 0..<5 { receiver.receive(Self.packet(i), atMs: UInt64(20 * i), into: &sink) }
        let cn = rtpPacket(pt: 13, seq: 1005, ts: 50_000 + 160 * 5, ssrc: 0xAAAA, payload: [40])
        #expect(receiver.receive(cn, atMs: 100, into: &sink) == .comfortNoise)
        for i in 10..<15 {
            let p = rtpPacket(pt: 0, seq: UInt16(1006 + i - 10), ts: 50_000 + UInt32(160 * i), ssrc: 0xAAAA, payload: muLawPayload(Self.code(i)))
            receiver.receive(p, atMs: UInt64(20 * i), into: &sink)
        }
        receiver.flush(into: &sink)
        let expected: [Int16?] = (0..<15).map { $0 >= 5 && $0 < 10 ? nil : Self.value($0) }
        #expect(Self.frameValues(sink) == expected)
        #expect(receiver.counters.comfortNoisePackets == 1)
        #expect(receiver.counters.timelineRestarts == 0)
    }

    @Test(arguments: [UInt32(1) << 31, 3_600 * 8_000, 30 * 8_000, UInt32(0) &- 8_000 * 10] as [UInt32])
    func timestampJumpsRestartTheTimelineWithoutSilenceFloods(jump: UInt32) throws {
        let receiver = try pcmuReceiver()
        var sink = CollectingSink()
        for i in 0..<5 { receiver.receive(Self.packet(i), atMs: UInt64(20 * i), into: &sink) }
        // The sender jumps its timestamps (sequence numbers go on); packets keep arriving every 20 ms.
        for i in 5..<10 {
            let p = rtpPacket(
                pt: 0, seq: UInt16(1000 + i), ts: 50_000 &+ jump &+ UInt32(160 * i), ssrc: 0xAAAA,
                payload: muLawPayload(Self.code(i)))
            #expect(receiver.receive(p, atMs: UInt64(20 * i), into: &sink) == .audio)
        }
        receiver.flush(into: &sink)
        #expect(receiver.counters.timelineRestarts == 1)
        #expect(Self.frameValues(sink) == (0..<10).map { Self.value($0) })
    }

    @Test func aLongGapIsCappedAtMaxGap() throws {
        let receiver = try pcmuReceiver(maxGapMs: 1_000)
        var sink = CollectingSink()
        receiver.receive(Self.packet(0), atMs: 0, into: &sink)
        // Ten minutes later by both clocks (a hold without packets): only 1 s of silence.
        let later = rtpPacket(pt: 0, seq: 1001, ts: 50_000 + 600 * 8_000, ssrc: 0xAAAA, payload: muLawPayload(Self.code(1)))
        receiver.receive(later, atMs: 600_000, into: &sink)
        receiver.flush(into: &sink)
        #expect(sink.frames.count == 2 + 50)
        #expect(receiver.counters.timelineRestarts == 1)
    }

    @Test func ssrcChangeIsANewEpochThatContinuesTheTimeline() throws {
        let receiver = try pcmuReceiver()
        var sink = CollectingSink()
        for i in 0..<5 { receiver.receive(Self.packet(i), atMs: UInt64(20 * i), into: &sink) }
        for i in 5..<10 {
            receiver.receive(Self.packet(i, ssrc: 0xBBBB, seqBase: 7, tsBase: 9_999_999), atMs: UInt64(20 * i), into: &sink)
        }
        #expect(receiver.receive(Self.packet(5), atMs: 200, into: &sink) == .staleSSRC)
        receiver.flush(into: &sink)
        // The new SSRC's first packet only announces it; the second confirms it and is placed by
        // arrival time, where it belongs.
        var expected: [Int16?] = (0..<10).map { Self.value($0) }
        expected[5] = nil
        #expect(Self.frameValues(sink) == expected)
        #expect(sink.frames.map(\.timestampMs) == (0..<10).map { Int64(20 * $0) })
        #expect(receiver.counters.ssrcChanges == 1)
        #expect(receiver.counters.unconfirmedSSRC == 1)
        #expect(receiver.counters.staleSSRC == 1)
    }

    @Test func aStrayPacketOfAnotherSSRCDoesNotTakeTheStreamOver() throws {
        let receiver = try pcmuReceiver()
        var sink = CollectingSink()
        for i in 0..<10 {
            receiver.receive(Self.packet(i), atMs: UInt64(20 * i), into: &sink)
            if i % 3 == 1 {
                let stray = rtpPacket(pt: 0, seq: UInt16(i * 7), ts: 0, ssrc: 0xBAD0 + UInt32(i), payload: muLawPayload(1))
                #expect(receiver.receive(stray, atMs: UInt64(20 * i), into: &sink) == .unconfirmedSSRC)
            }
        }
        receiver.flush(into: &sink)
        #expect(Self.frameValues(sink) == (0..<10).map { Self.value($0) })
        #expect(receiver.counters.ssrcChanges == 0)
        #expect(receiver.counters.unconfirmedSSRC == 3)
    }

    @Test func sequenceJumpCostsOnePacket() throws {
        let receiver = try pcmuReceiver()
        var sink = CollectingSink()
        for i in 0..<5 { receiver.receive(Self.packet(i), atMs: UInt64(20 * i), into: &sink) }
        for i in 5..<10 {
            let p = rtpPacket(pt: 0, seq: 1000 &+ 32_768 &+ UInt16(i), ts: 50_000 + UInt32(160 * i), ssrc: 0xAAAA, payload: muLawPayload(Self.code(i)))
            receiver.receive(p, atMs: UInt64(20 * i), into: &sink)
        }
        receiver.flush(into: &sink)
        #expect(receiver.counters.sequenceRejected == 1)
        var expected: [Int16?] = (0..<10).map { Self.value($0) }
        expected[5] = nil
        #expect(Self.frameValues(sink) == expected)
    }

    @Test func unknownPayloadTypesAndGarbageAreCounted() throws {
        let receiver = try pcmuReceiver()
        var sink = CollectingSink()
        #expect(receiver.receive(rtpPacket(pt: 18, seq: 1, ts: 0, payload: [1, 2]), atMs: 0, into: &sink) == .unknownPayloadType(18))
        #expect(receiver.receive([0x80, 0x00, 0x01], atMs: 0, into: &sink) == .malformed(.tooShort(count: 3)))
        #expect(receiver.receive([0x81, 200, 0, 6, 0, 0, 0, 1], atMs: 0, into: &sink) == .rtcp)
        #expect(receiver.counters.unknownPayloadType == 1)
        #expect(receiver.counters.malformed == 1)
        #expect(receiver.counters.rtcpPackets == 1)
        #expect(sink.frames.isEmpty)
    }

    @Test func telephoneEventsAreReportedOncePlacedOnTheTimeline() throws {
        let receiver = try pcmuReceiver()
        var sink = CollectingSink()
        for i in 0..<5 { receiver.receive(Self.packet(i), atMs: UInt64(20 * i), into: &sink) }
        // "5" starting at packet 5's timestamp (100 ms): start, update, three ends.
        let ts: UInt32 = 50_000 + 160 * 5
        let events: [(Bool, UInt16)] = [(false, 160), (false, 320), (true, 480), (true, 480), (true, 480)]
        for (n, (end, duration)) in events.enumerated() {
            let payload: [UInt8] = [5, end ? 0x8A : 0x0A, UInt8(duration >> 8), UInt8(duration & 0xFF)]
            let p = rtpPacket(pt: 101, seq: UInt16(1005 + n), ts: ts, ssrc: 0xAAAA, marker: n == 0, payload: payload)
            #expect(receiver.receive(p, atMs: UInt64(100 + 20 * n), into: &sink) == .telephoneEvent)
        }
        #expect(sink.digits.map(\.digit) == [.five])
        #expect(sink.digits.first?.timestampMs == 100)
        #expect(sink.digits.first?.fromEndPacket == false)
        #expect(receiver.counters.telephoneEventPackets == 5)
    }

    @Test func mapFromSDPHandlesG722ClockQuirk() throws {
        let sdp = """
            v=0\r
            o=- 1 1 IN IP4 192.0.2.1\r
            s=-\r
            c=IN IP4 192.0.2.1\r
            t=0 0\r
            m=audio 4000 RTP/AVP 9 101\r
            a=rtpmap:9 G722/8000\r
            a=rtpmap:101 telephone-event/8000\r
            a=fmtp:101 0-15\r

            """
        let session = try SDPSession.parse(Array(sdp.utf8), limits: .default)
        let map = RTPPayloadMap(media: session.media[0])
        #expect(map.codec(for: 9) == .g722)
        #expect(map.codec(for: 101) == .telephoneEvent)
        let receiver = try RTPStreamReceiver(configuration: .init(payloads: map))
        #expect(receiver.sampleRate == .hz16000)
        var sink = CollectingSink()
        // 20 ms of G.722 = 160 bytes, timestamps advance by 160 (the 8000 Hz clock).
        for i in 0..<5 {
            let p = rtpPacket(pt: 9, seq: UInt16(i), ts: UInt32(160 * i), payload: [UInt8](repeating: 0xFA, count: 160))
            #expect(receiver.receive(p, atMs: UInt64(20 * i), into: &sink) == .audio)
        }
        receiver.flush(into: &sink)
        #expect(sink.frames.count == 5)
        #expect(sink.frames.allSatisfy { $0.samples.count == 320 })
        #expect(sink.frames.map(\.timestampMs) == [0, 20, 40, 60, 80])
    }
}

@Suite struct RTPStreamReceiverOpusTests {
    /// Opus on its 48 kHz RTP clock, decoded at 16 kHz: a 1 kHz tone encoded by libopus comes back
    /// as 320-sample frames, 20 ms apart, with the tone dominant.
    @Test func opusAt16kHz() throws {
        let encoder = try OpusEncoder(sampleRate: .hz16000, bitrate: 32_000)
        var map = RTPPayloadMap()
        map.set(.opus, for: 111)
        var configuration = RTPStreamReceiver.Configuration(payloads: map)
        configuration.opusRate = .hz16000
        let receiver = try RTPStreamReceiver(configuration: configuration)
        #expect(receiver.sampleRate == .hz16000)
        var sink = CollectingSink()
        var packet = [UInt8](repeating: 0, count: OpusEncoder.maximumPacketBytes)
        for i in 0..<50 {
            let pcm: [Int16] = (0..<320).map { Int16(8_000 * sin(2 * Double.pi * 1_000 * Double(320 * i + $0) / 16_000)) }
            let size = try pcm.withUnsafeBufferPointer { samples in
                try packet.withUnsafeMutableBytes { try encoder.encode(samples, into: $0) }
            }
            let rtp = rtpPacket(pt: 111, seq: UInt16(i), ts: UInt32(960 * i), payload: Array(packet[0..<size]))
            #expect(receiver.receive(rtp, atMs: UInt64(20 * i), into: &sink) == .audio)
        }
        receiver.flush(into: &sink)
        #expect(sink.frames.count == 50)
        #expect(sink.frames.allSatisfy { $0.samples.count == 320 })
        #expect(sink.frames.map(\.timestampMs) == (0..<50).map { Int64(20 * $0) })
        let tail = sink.samples.dropFirst(3_200).map(Double.init)
        #expect(toneShare(tail[...], frequency: 1_000, rate: 16_000) > 0.8)
    }
}
