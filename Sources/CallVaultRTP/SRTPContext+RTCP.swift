internal import CallVaultCrypto

extension SRTPContext {
    /// Authenticates and decrypts an SRTCP packet (RFC 3711 §3.4) in place, returning the length of
    /// the RTCP compound packet now at the front (index word, MKI and tag removed).
    ///
    /// Layout: the first 8 bytes (header and sender SSRC) in clear, the rest encrypted if the E bit
    /// is set, then E || 31-bit SRTCP index, the MKI, and an 80-bit tag over everything before the MKI.
    public func unprotectRTCP(_ packet: UnsafeMutableRawBufferPointer) throws(SRTPError) -> Int {
        let tagLength = suite.rtcpTagLength
        guard packet.count >= 8 + 4 + mkiLength + tagLength else { throw .packetTooShort(packet.count) }
        guard packet[0] >> 6 == 2 else { throw .malformedHeader(.unsupportedVersion(packet[0] >> 6)) }
        let indexOffset = packet.count - tagLength - mkiLength - 4
        try checkMKI(packet, at: indexOffset + 4)
        let bytes = UnsafeRawBufferPointer(packet)
        let word = bytes.loadBigEndianUInt32(at: indexOffset)
        let encrypted = word & 0x8000_0000 != 0
        let index = Int64(word & 0x7FFF_FFFF)
        let sender = bytes.loadBigEndianUInt32(at: 4)
        let fresh = !rtcpStarted || sender != rtcpSSRC
        if !fresh {
            switch rtcpReplay.check(index) {
            case .duplicate: throw .replayed
            case .tooOld: throw .tooOld
            case .new: break
            }
        }
        // The tag covers the index word too; SRTCP appends no ROC, so the suffix is empty.
        try verifyRTCP(UnsafeRawBufferPointer(rebasing: bytes[0..<(indexOffset + 4)]), tag: UnsafeRawBufferPointer(rebasing: bytes[(packet.count - tagLength)...]))
        if encrypted {
            setIV(salt: rtcpSalt, ssrc: sender, index: UInt64(index))
            rtcpCipher.apply(
                iv: UnsafeRawBufferPointer(rebasing: scratch[0..<16]),
                to: UnsafeMutableRawBufferPointer(rebasing: packet[8..<indexOffset]))
        }
        if fresh {
            rtcpStarted = true
            rtcpSSRC = sender
            rtcpReplay.reset()
        }
        rtcpReplay.mark(index)
        return indexOffset
    }

    func verifyRTCP(_ message: UnsafeRawBufferPointer, tag: UnsafeRawBufferPointer) throws(SRTPError) {
        let computed = UnsafeMutableRawBufferPointer(rebasing: scratch[16..<36])
        rtcpAuth.authenticate(message, UnsafeRawBufferPointer(start: nil, count: 0), into: computed)
        guard ConstantTime.equals(UnsafeRawBufferPointer(rebasing: computed[0..<tag.count]), tag) else {
            throw .authenticationFailed
        }
    }
}
