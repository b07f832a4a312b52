/// Small values sealed whole with AES-256-GCM: `nonce (12) ‖ ciphertext ‖ tag (16)`, a random nonce each
/// time, bound to `aad` (what the value belongs to, so a sealed value moved to another row does not open).
/// For short texts kept in the catalog (a bot's utterance); recordings and transcripts use sealed files.
public enum SealedText {
    public static let overheadByteCount = AESGCM.nonceByteCount + AESGCM.tagByteCount

    public static func seal(_ plain: [UInt8], key: SecretKey, aad: [UInt8]) throws(CryptoError) -> [UInt8] {
        let total = overheadByteCount + plain.count
        let messageEnd = total - AESGCM.tagByteCount
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 16)
        defer {
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            buffer.deallocate()
        }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        UnsafeMutableRawBufferPointer(rebasing: buffer[AESGCM.nonceByteCount..<messageEnd]).copyBytes(from: plain)
        let aadBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(aad.count, 1), alignment: 16)
        defer { aadBuffer.deallocate() }
        aadBuffer.copyBytes(from: aad)
        let cipher = try AESGCM(key: key)
        try SecureRandom.fill(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<AESGCM.nonceByteCount]))
        try cipher.seal(
            inPlace: UnsafeMutableRawBufferPointer(rebasing: buffer[AESGCM.nonceByteCount..<messageEnd]),
            nonce: UnsafeRawBufferPointer(rebasing: buffer[0..<AESGCM.nonceByteCount]),
            aad: UnsafeRawBufferPointer(rebasing: aadBuffer[0..<aad.count]),
            tag: UnsafeMutableRawBufferPointer(rebasing: buffer[messageEnd...]))
        return Array(buffer)
    }

    /// The plain value; `authenticationFailed` when the key, the `aad` or a byte is wrong.
    public static func open(_ sealed: [UInt8], key: SecretKey, aad: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard sealed.count >= overheadByteCount else {
            throw CryptoError(.authenticationFailed, "a sealed value of \(sealed.count) bytes is too short to hold a nonce and a tag")
        }
        let messageEnd = sealed.count - AESGCM.tagByteCount
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: sealed.count, alignment: 16)
        defer {
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            buffer.deallocate()
        }
        buffer.copyBytes(from: sealed)
        let aadBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(aad.count, 1), alignment: 16)
        defer { aadBuffer.deallocate() }
        aadBuffer.copyBytes(from: aad)
        let cipher = try AESGCM(key: key)
        try cipher.open(
            inPlace: UnsafeMutableRawBufferPointer(rebasing: buffer[AESGCM.nonceByteCount..<messageEnd]),
            nonce: UnsafeRawBufferPointer(rebasing: buffer[0..<AESGCM.nonceByteCount]),
            aad: UnsafeRawBufferPointer(rebasing: aadBuffer[0..<aad.count]),
            tag: UnsafeRawBufferPointer(rebasing: buffer[messageEnd...]))
        return Array(buffer[AESGCM.nonceByteCount..<messageEnd])
    }
}
