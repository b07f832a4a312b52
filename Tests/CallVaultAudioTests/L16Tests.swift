import Testing

@testable import CallVaultAudio

/// L16 must put bytes in the order the wire or file expects, for every sample value.
@Suite struct L16Tests {
    @Test func bigEndianPutsTheHighByteFirst() throws {
        let samples: [Int16] = [0x1234, -2, Int16.min, Int16.max]
        var bytes = [UInt8](repeating: 0, count: 8)
        try samples.withUnsafeBufferPointer { src in
            try bytes.withUnsafeMutableBytes { dst in try L16.encodeBigEndian(src, into: dst) }
        }
        #expect(bytes == [0x12, 0x34, 0xFF, 0xFE, 0x80, 0x00, 0x7F, 0xFF])
    }

    @Test func littleEndianPutsTheLowByteFirst() throws {
        let samples: [Int16] = [0x1234, -2, Int16.min, Int16.max]
        var bytes = [UInt8](repeating: 0, count: 8)
        try samples.withUnsafeBufferPointer { src in
            try bytes.withUnsafeMutableBytes { dst in try L16.encodeLittleEndian(src, into: dst) }
        }
        #expect(bytes == [0x34, 0x12, 0xFE, 0xFF, 0x00, 0x80, 0xFF, 0x7F])
    }

    @Test func everyValueSurvivesARoundTripInBothOrders() throws {
        let values = (0..<65_536).map { Int16(truncatingIfNeeded: $0 - 32_768) }
        var bytes = [UInt8](repeating: 0, count: values.count * 2)
        var back = [Int16](repeating: 0, count: values.count)
        for bigEndian in [true, false] {
            try values.withUnsafeBufferPointer { src in
                try bytes.withUnsafeMutableBytes { dst in
                    if bigEndian {
                        try L16.encodeBigEndian(src, into: dst)
                    } else {
                        try L16.encodeLittleEndian(src, into: dst)
                    }
                }
            }
            try bytes.withUnsafeBytes { src in
                try back.withUnsafeMutableBufferPointer { dst in
                    if bigEndian {
                        try L16.decodeBigEndian(src, into: dst)
                    } else {
                        try L16.decodeLittleEndian(src, into: dst)
                    }
                }
            }
            #expect(back == values, "big-endian: \(bigEndian)")
        }
    }

    /// Samples inside a WebSocket message start wherever the header ends, often at an odd address.
    @Test func decodesFromAnUnalignedOffset() throws {
        let message: [UInt8] = [0xAA, 0x12, 0x34, 0xFF, 0xFE]
        var samples = [Int16](repeating: 0, count: 2)
        try message.withUnsafeBytes { raw in
            let payload = UnsafeRawBufferPointer(rebasing: raw[1...])
            try samples.withUnsafeMutableBufferPointer { dst in
                try L16.decodeBigEndian(payload, into: dst)
            }
        }
        #expect(samples == [0x1234, -2])
    }

    @Test func oddOrMismatchedLengthsThrowNamingTheCounts() {
        let bytes = [UInt8](repeating: 0, count: 321)
        var samples = [Int16](repeating: 0, count: 160)
        bytes.withUnsafeBytes { src in
            samples.withUnsafeMutableBufferPointer { dst in
                do {
                    try L16.decodeLittleEndian(src, into: dst)
                    Issue.record("an odd byte count was accepted")
                } catch let error as AudioError {
                    #expect(error.code == .wrongFrameLength)
                    #expect(error.message.contains("321"))
                } catch {
                    Issue.record("unexpected error \(error)")
                }
                do {
                    try L16.decodeBigEndian(UnsafeRawBufferPointer(rebasing: src[0..<318]), into: dst)
                    Issue.record("159 samples' bytes decoded into 160 samples")
                } catch let error as AudioError {
                    #expect(error.code == .wrongFrameLength)
                    #expect(error.message.contains("159") && error.message.contains("160"))
                } catch {
                    Issue.record("unexpected error \(error)")
                }
            }
        }
        var out = [UInt8](repeating: 0, count: 319)
        samples.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBytes { dst in
                do {
                    try L16.encodeBigEndian(src, into: dst)
                    Issue.record("160 samples encoded into 319 bytes")
                } catch let error as AudioError {
                    #expect(error.code == .wrongFrameLength)
                    #expect(error.message.contains("320") && error.message.contains("319"))
                } catch {
                    Issue.record("unexpected error \(error)")
                }
            }
        }
    }
}
