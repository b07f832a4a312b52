internal import CallVaultCrypto
public import CallVaultSIP

/// Receives SRTP (RFC 3711) for one stream keyed by SDES (RFC 4568): authenticates, checks for
/// replay, and decrypts packets in place, so the RTP receiver sees plain RTP.
///
/// Per SSRC the context keeps the rollover counter (ROC) and the highest sequence number, and
/// estimates each packet's 48-bit index from them (§3.3.1), so a stream survives the 16-bit
/// sequence wrap, and reordering across it. The state is committed only after a packet
/// authenticated: a forged packet cannot move the ROC, the replay window or the SSRC. A new SSRC
/// (after it authenticated under the same master key) starts fresh state, as an SSRC change
/// without a re-INVITE needs; the SSRC it replaced is refused from then on.
///
/// The tag is compared in constant time (`CRYPTO_memcmp`), before anything is decrypted. Set-up
/// derives the session keys once (KDR 0); per packet there is no allocation.
/// One context per stream and direction, used from one thread at a time.
public final class SRTPContext {
    public let suite: SRTPCryptoSuite
    let mkiLength: Int
    let mki: UInt64
    let rtpCipher: AESCounterMode
    let rtpAuth: HMACSHA1
    let rtpSalt: [UInt8]
    let rtcpCipher: AESCounterMode
    let rtcpAuth: HMACSHA1
    let rtcpSalt: [UInt8]
    /// IV (16), computed tag (20), ROC (4): set up once, reused per packet.
    let scratch: UnsafeMutableRawBufferPointer

    var started = false
    var ssrc: UInt32 = 0
    /// The SSRC before the last change: its packets are refused, or an attacker could replay an
    /// old authenticated packet of it and switch the stream back (fresh state, empty replay window).
    var retiredSSRC: UInt32?
    var rollover: UInt32 = 0
    var highestSequence: UInt16 = 0
    var replay = RTPReplayWindow()
    var rtcpStarted = false
    var rtcpSSRC: UInt32 = 0
    var rtcpReplay = RTPReplayWindow()

    /// A context for `key` (see ``SRTPKeyParameters/init(crypto:)`` to get one from `a=crypto`).
    public init(key: SRTPKeyParameters) {
        suite = key.suite
        mki = key.mki
        mkiLength = key.mkiLength
        let rtp = SRTPSessionKeys(masterKey: key.masterKey, masterSalt: key.masterSalt, rtcp: false)
        let rtcp = SRTPSessionKeys(masterKey: key.masterKey, masterSalt: key.masterSalt, rtcp: true)
        rtpCipher = rtp.encryptionKey.withUnsafeBytes { AESCounterMode(key: $0) }
        rtpAuth = rtp.authenticationKey.withUnsafeBytes { HMACSHA1(key: $0) }
        rtpSalt = rtp.salt
        rtcpCipher = rtcp.encryptionKey.withUnsafeBytes { AESCounterMode(key: $0) }
        rtcpAuth = rtcp.authenticationKey.withUnsafeBytes { HMACSHA1(key: $0) }
        rtcpSalt = rtcp.salt
        scratch = .allocate(byteCount: 40, alignment: 8)
        scratch.initializeMemory(as: UInt8.self, repeating: 0)
    }

    /// A context for the first key of an SDES `a=crypto` line.
    ///
    /// - Throws: ``SRTPError`` for an unsupported suite or session parameter, or a bad key.
    public convenience init(crypto: SDPCrypto) throws(SRTPError) {
        self.init(key: try SRTPKeyParameters(crypto: crypto))
    }

    deinit {
        scratch.initializeMemory(as: UInt8.self, repeating: 0)
        scratch.deallocate()
    }

    /// Authenticates and decrypts the SRTP packet in `packet` in place, returning the length of the
    /// RTP packet it now holds at the front (MKI and tag removed).
    public func unprotect(_ packet: UnsafeMutableRawBufferPointer) throws(SRTPError) -> Int {
        let tagLength = suite.rtpTagLength
        let trailer = tagLength + mkiLength
        guard packet.count >= RTPHeader.fixedSize + trailer else { throw .packetTooShort(packet.count) }
        let authenticated = packet.count - trailer
        let headerSize: Int
        do {
            headerSize = try RTPHeader.headerSize(UnsafeRawBufferPointer(rebasing: packet[0..<authenticated]))
        } catch {
            throw .malformedHeader(error)
        }
        try checkMKI(packet, at: authenticated)
        let bytes = UnsafeRawBufferPointer(packet)
        let sequence = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        let packetSSRC = bytes.loadBigEndianUInt32(at: 8)
        let fresh = !started || packetSSRC != ssrc
        if fresh && started && packetSSRC == retiredSSRC { throw .retiredSSRC }
        let (roc, index) = fresh ? (UInt32(0), Int64(sequence)) : estimateIndex(sequence)
        if !fresh {
            switch replay.check(index) {
            case .duplicate: throw .replayed
            case .tooOld: throw .tooOld
            case .new: break
            }
        }
        try verify(
            rtpAuth, UnsafeRawBufferPointer(rebasing: bytes[0..<authenticated]), suffix: roc,
            tag: UnsafeRawBufferPointer(rebasing: bytes[(packet.count - tagLength)...]))
        setIV(salt: rtpSalt, ssrc: packetSSRC, index: UInt64(index))
        rtpCipher.apply(
            iv: UnsafeRawBufferPointer(rebasing: scratch[0..<16]),
            to: UnsafeMutableRawBufferPointer(rebasing: packet[headerSize..<authenticated]))
        commit(ssrc: packetSSRC, fresh: fresh, sequence: sequence, roc: roc, index: index)
        return authenticated
    }

    /// RFC 3711 §3.3.1: the ROC guess `v` for `sequence` given the highest sequence so far, and
    /// the packet index 2^16 · v + SEQ.
    func estimateIndex(_ sequence: UInt16) -> (UInt32, Int64) {
        var v = rollover
        if highestSequence < 32_768 {
            if Int(sequence) - Int(highestSequence) > 32_768 { v = rollover &- 1 }
        } else if Int(highestSequence) - 32_768 > Int(sequence) {
            v = rollover &+ 1
        }
        if rollover == 0 && v == UInt32.max {
            // Before the first wrap a packet cannot belong to cycle -1: treat it as this cycle (it
            // will fail as too old or be a genuine reorder at the very start).
            v = 0
        }
        return (v, Int64(v) << 16 | Int64(sequence))
    }

    func commit(ssrc packetSSRC: UInt32, fresh: Bool, sequence: UInt16, roc: UInt32, index: Int64) {
        if fresh {
            if started { retiredSSRC = ssrc }
            started = true
            ssrc = packetSSRC
            rollover = 0
            highestSequence = sequence
            replay.reset()
        } else if roc == rollover &+ 1 {
            rollover = roc
            highestSequence = sequence
        } else if roc == rollover && sequence > highestSequence {
            highestSequence = sequence
        }
        replay.mark(index)
    }

    func checkMKI(_ packet: UnsafeMutableRawBufferPointer, at offset: Int) throws(SRTPError) {
        guard mkiLength > 0 else { return }
        var value: UInt64 = 0
        for i in 0..<mkiLength { value = value << 8 | UInt64(packet[offset + i]) }
        guard value == mki else { throw .unknownMKI }
    }

    /// Checks `tag` against HMAC(message || suffix as 4 big-endian bytes), in constant time.
    func verify(_ auth: HMACSHA1, _ message: UnsafeRawBufferPointer, suffix: UInt32, tag: UnsafeRawBufferPointer)
        throws(SRTPError)
    {
        scratch[36] = UInt8(truncatingIfNeeded: suffix >> 24)
        scratch[37] = UInt8(truncatingIfNeeded: suffix >> 16)
        scratch[38] = UInt8(truncatingIfNeeded: suffix >> 8)
        scratch[39] = UInt8(truncatingIfNeeded: suffix)
        let computed = UnsafeMutableRawBufferPointer(rebasing: scratch[16..<36])
        auth.authenticate(message, UnsafeRawBufferPointer(rebasing: scratch[36..<40]), into: computed)
        let expected = UnsafeRawBufferPointer(rebasing: computed[0..<tag.count])
        guard ConstantTime.equals(expected, tag) else { throw .authenticationFailed }
    }

    /// IV = (salt · 2^16) XOR (SSRC · 2^64) XOR (index · 2^16), RFC 3711 §4.1.1, into scratch[0..<16].
    func setIV(salt: [UInt8], ssrc: UInt32, index: UInt64) {
        for i in 0..<14 { scratch[i] = salt[i] }
        scratch[14] = 0
        scratch[15] = 0
        for i in 0..<4 { scratch[4 + i] ^= UInt8(truncatingIfNeeded: ssrc >> (24 - 8 * UInt32(i))) }
        for i in 0..<6 { scratch[8 + i] ^= UInt8(truncatingIfNeeded: index >> (40 - 8 * UInt64(i))) }
    }
}
