import CallVaultTestSupport
import Testing

@testable import CallVaultIngest

/// The media handler's eight-bytes-at-a-time unmasking against the byte-wise definition (RFC 6455 §5.3:
/// payload byte i XOR key byte i mod 4, the key's bytes in the order they arrived).
@Suite("WebSocket unmasking eight bytes at a time")
struct WebSocketUnmaskTests {
    @Test func matchesByteWiseUnmaskingOnRandomLengthsKeysAndOffsets() {
        var random = SeededRandom(seed: 20)
        for round in 0..<2_000 {
            // Every short length (the tail loop alone), Twilio-sized messages, and some long ones.
            let count = round < 64 ? round : Int.random(in: 0...(round % 10 == 0 ? 5_000 : 600), using: &random)
            let keyBytes = random.bytes(4)
            let key = keyBytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }  // network order, as read from the frame
            // A payload that starts off an 8-byte boundary, as one inside a read buffer does.
            let offset = Int.random(in: 0..<8, using: &random)
            let bytes = random.bytes(offset + count)
            let expected = (0..<count).map { bytes[offset + $0] ^ keyBytes[$0 & 3] }
            // Room past the end, which must stay untouched.
            var target = [UInt8](repeating: 0xA5, count: count + 9)
            bytes.withUnsafeBytes { source in
                target.withUnsafeMutableBytes { target in
                    MediaWebSocketHandler.unmask(
                        UnsafeRawBufferPointer(rebasing: source[offset...]),
                        into: UnsafeMutableRawBufferPointer(rebasing: target[0..<count]), mask: key)
                }
            }
            #expect(Array(target[0..<count]) == expected, "length \(count), offset \(offset)")
            #expect(target[count...].allSatisfy { $0 == 0xA5 })
        }
    }
}
