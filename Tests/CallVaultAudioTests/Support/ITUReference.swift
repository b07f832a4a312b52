/// A literal port of the G.711 encoders in ITU-T G.191's `g711.c` (after Sun Microsystems' public
/// domain code): a linear search over the segment end points, kept deliberately unlike the
/// production encoder (which finds the segment from the highest set bit), so the two check each other.
enum ITUReference {
    static let segmentEndsMuLaw: [Int32] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF]
    static let segmentEndsALaw: [Int32] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF]

    static func search(_ value: Int32, _ table: [Int32]) -> Int32 {
        for (i, end) in table.enumerated() where value <= end { return Int32(i) }
        return Int32(table.count)
    }

    static func linear2ulaw(_ sample: Int16) -> UInt8 {
        var pcm = Int32(sample) >> 2
        var mask: Int32 = 0xFF
        if pcm < 0 {
            pcm = -pcm
            mask = 0x7F
        }
        if pcm > 8159 { pcm = 8159 }  // CLIP
        pcm += 0x84 >> 2  // BIAS
        let seg = search(pcm, segmentEndsMuLaw)
        if seg >= 8 { return UInt8(0x7F ^ mask) }
        return UInt8(((seg << 4) | ((pcm >> (seg + 1)) & 0xF)) ^ mask)
    }

    static func linear2alaw(_ sample: Int16) -> UInt8 {
        var pcm = Int32(sample) >> 3
        var mask: Int32 = 0xD5
        if pcm < 0 {
            mask = 0x55
            pcm = -pcm - 1
        }
        let seg = search(pcm, segmentEndsALaw)
        if seg >= 8 { return UInt8(0x7F ^ mask) }
        var aval = seg << 4
        aval |= (seg < 2 ? pcm >> 1 : pcm >> seg) & 0xF
        return UInt8(aval ^ mask)
    }
}
