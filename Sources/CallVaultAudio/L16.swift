/// 16-bit linear PCM as bytes on the wire or on disk, in either byte order, to and from `Int16`.
///
/// RTP's L16 (RFC 3551) and the jambonz/FreeSWITCH binary WebSocket forks send big-endian
/// ("network order") samples; Asterisk AudioSocket's slin and WAV data are little-endian. Both
/// directions work on caller-provided buffers and never allocate; input bytes may be unaligned.
public enum L16 {
    /// Decodes big-endian PCM16 bytes (RFC 3551 L16) into samples.
    ///
    /// - Throws: `wrongFrameLength` unless `src.count == 2 * dst.count`.
    @inlinable
    public static func decodeBigEndian(
        _ src: UnsafeRawBufferPointer,
        into dst: UnsafeMutableBufferPointer<Int16>
    ) throws(AudioError) {
        try checkDecodeLengths(bytes: src.count, samples: dst.count)
        for i in 0..<dst.count {
            dst[i] = Int16(bigEndian: src.loadUnaligned(fromByteOffset: 2 &* i, as: Int16.self))
        }
    }

    /// Decodes little-endian PCM16 bytes (slin, WAV) into samples.
    ///
    /// - Throws: `wrongFrameLength` unless `src.count == 2 * dst.count`.
    @inlinable
    public static func decodeLittleEndian(
        _ src: UnsafeRawBufferPointer,
        into dst: UnsafeMutableBufferPointer<Int16>
    ) throws(AudioError) {
        try checkDecodeLengths(bytes: src.count, samples: dst.count)
        for i in 0..<dst.count {
            dst[i] = Int16(littleEndian: src.loadUnaligned(fromByteOffset: 2 &* i, as: Int16.self))
        }
    }

    /// Encodes samples as big-endian PCM16 bytes (RFC 3551 L16).
    ///
    /// - Throws: `wrongFrameLength` unless `dst.count == 2 * src.count`.
    @inlinable
    public static func encodeBigEndian(
        _ src: UnsafeBufferPointer<Int16>,
        into dst: UnsafeMutableRawBufferPointer
    ) throws(AudioError) {
        try checkEncodeLengths(samples: src.count, bytes: dst.count)
        for i in 0..<src.count {
            dst.storeBytes(of: src[i].bigEndian, toByteOffset: 2 &* i, as: Int16.self)
        }
    }

    /// Encodes samples as little-endian PCM16 bytes (slin, WAV).
    ///
    /// - Throws: `wrongFrameLength` unless `dst.count == 2 * src.count`.
    @inlinable
    public static func encodeLittleEndian(
        _ src: UnsafeBufferPointer<Int16>,
        into dst: UnsafeMutableRawBufferPointer
    ) throws(AudioError) {
        try checkEncodeLengths(samples: src.count, bytes: dst.count)
        for i in 0..<src.count {
            dst.storeBytes(of: src[i].littleEndian, toByteOffset: 2 &* i, as: Int16.self)
        }
    }

    /// Throws unless the input has an even byte count and the output holds all its samples.
    @inlinable
    static func checkDecodeLengths(bytes: Int, samples: Int) throws(AudioError) {
        guard bytes & 1 == 0 else {
            throw AudioError(.wrongFrameLength, "L16 decode: \(bytes) bytes is odd (PCM16 has 2 bytes per sample)")
        }
        guard bytes / 2 == samples else {
            throw AudioError(
                .wrongFrameLength,
                "L16 decode: expected \(bytes / 2) samples for \(bytes) bytes, got room for \(samples)"
            )
        }
    }

    /// Throws unless the output has exactly two bytes per input sample.
    @inlinable
    static func checkEncodeLengths(samples: Int, bytes: Int) throws(AudioError) {
        guard samples &* 2 == bytes else {
            throw AudioError(
                .wrongFrameLength,
                "L16 encode: expected \(samples * 2) bytes for \(samples) samples, got \(bytes)"
            )
        }
    }
}
