import CallVaultAudio
import CallVaultTestSupport
import Testing

@testable import CallVaultRTP

/// Counts heap allocations per packet when a malloc counter is preloaded (``MallocCounter``,
/// `LD_PRELOAD`); without it the test says so and is skipped. Serialized: the counter's total is
/// process-wide, so two counting tests at once would add up each other's allocations.
@Suite(.serialized) struct RTPAllocationTests {
    /// A sink that keeps nothing but counts, so the count is the receiver's own.
    struct CountingSink: RTPStreamSink {
        var frames = 0
        var digits = 0
        var checksum = 0
        mutating func receive(frame: Frame) {
            frames += 1
            checksum &+= Int(frame.samples[0])
        }
        mutating func receive(dtmf: DTMFEvent) { digits += 1 }
    }

    @Test(.enabled(if: MallocCounter.isAvailable, "no malloc counter preloaded (LD_PRELOAD); allocation counts not measured"))
    func receiverAllocatesNothingPerPacket() throws {
        let receiver = try pcmuReceiver()
        // 2,000 packets across the sequence wrap: reordered pairs, a duplicate every 50, a DTMF
        // press every 100, a 1 s gap every 500, an SSRC change at 1,500.
        var packets: [[UInt8]] = []
        for i in 0..<2_000 {
            let j = i % 2 == 0 ? i + 1 : i - 1
            let seq = UInt16(truncatingIfNeeded: 65_000 + j)
            let ts = UInt32(160 * j + (j / 500) * 8_000)
            let pt: UInt8 = j % 100 == 7 ? 101 : 0
            let payload = pt == 101 ? [UInt8(j % 16), 0x8A, 0, 160] : [UInt8](repeating: UInt8(j & 0x7F), count: 160)
            let packet = rtpPacket(pt: pt, seq: seq, ts: ts, ssrc: i < 1_500 ? 9 : 10, payload: payload)
            packets.append(packet)
            if i % 50 == 0 { packets.append(packet) }
        }
        var sink = CountingSink()
        // Warm up on another receiver with the same packets: the G.711 tables and the runtime's
        // one-time set-up of each code path (late, SSRC change, restart) happen on first use.
        let warm = try pcmuReceiver()
        for (index, packet) in packets.enumerated() {
            packet.withUnsafeBytes { _ = warm.receive($0, arrivalNanos: UInt64(index) * 20_000_000, into: &sink) }
        }
        sink = CountingSink()
        // Counted per call, so only the receiver's own work is inside the window.
        var allocations = 0
        for index in packets.indices {
            allocations += MallocCounter.count {
                packets[index].withUnsafeBytes {
                    _ = receiver.receive($0, arrivalNanos: UInt64(index) * 20_000_000, into: &sink)
                }
            }
        }
        allocations += MallocCounter.count { receiver.flush(into: &sink) }
        print("allocations in \(packets.count) RTPStreamReceiver.receive:", allocations)
        #expect(sink.frames > 1_900)
        #expect(sink.digits == 20 || sink.digits == 19)
        #expect(receiver.counters.duplicates >= 39)  // the first packet of the new SSRC, doubled, only announces it
        #expect(allocations == 0)
    }

    /// SRTP's per-packet cost is measured and printed, not gated: OpenSSL's `EVP_MAC_init` (the
    /// HMAC restart) allocates inside libcrypto (2 per packet with OpenSSL 3.0).
    @Test(.enabled(if: MallocCounter.isAvailable, "no malloc counter preloaded (LD_PRELOAD); allocation counts not measured"))
    func srtpAllocationsPerPacket() throws {
        let key = (0..<30).map { UInt8($0) }
        let sender = SRTPTestSender(masterKey: Array(key[0..<16]), masterSalt: Array(key[16..<30]), suite: .aesCM128HMACSHA1_80)
        let context = SRTPContext(
            key: try SRTPKeyParameters(suite: .aesCM128HMACSHA1_80, masterKey: Array(key[0..<16]), masterSalt: Array(key[16..<30])))
        var packets = (0..<1_000).map {
            sender.protect(rtpPacket(pt: 0, seq: UInt16($0), ts: UInt32(160 * $0), payload: [UInt8](repeating: 1, count: 160)), roc: 0)
        }
        var failures = 0
        let allocations = MallocCounter.count {
            for index in packets.indices {
                packets[index].withUnsafeMutableBytes { if (try? context.unprotect($0)) == nil { failures += 1 } }
            }
        }
        print("allocations in 1000 SRTPContext.unprotect:", allocations)
        #expect(failures == 0)
        #expect(allocations <= 3 * 1_000)
    }
}
