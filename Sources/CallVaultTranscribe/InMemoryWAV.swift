import Foundation

/// A mono PCM16 WAV built in memory: a 44-byte RIFF header and the samples little-endian.
///
/// Engines that hand audio to someone else (an HTTP server, a program) need a container the other
/// side understands; building it here keeps plaintext audio off disk for the HTTP engine.
enum InMemoryWAV {
    static let headerSize = 44

    static func encode(_ samples: [Int16], sampleRate: Int = TranscriptionEngineRate.hz) -> Data {
        let dataBytes = samples.count * 2
        var wav = Data(capacity: headerSize + dataBytes)
        func append32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { wav.append(contentsOf: $0) } }
        func append16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { wav.append(contentsOf: $0) } }
        wav.append(contentsOf: Array("RIFF".utf8))
        append32(UInt32(truncatingIfNeeded: 36 + dataBytes))
        wav.append(contentsOf: Array("WAVEfmt ".utf8))
        append32(16)  // fmt chunk size
        append16(1)  // PCM
        append16(1)  // mono
        append32(UInt32(sampleRate))
        append32(UInt32(sampleRate * 2))  // byte rate
        append16(2)  // block align
        append16(16)  // bits per sample
        wav.append(contentsOf: Array("data".utf8))
        append32(UInt32(truncatingIfNeeded: dataBytes))
        samples.withUnsafeBufferPointer { buffer in
            #if _endian(little)
                wav.append(UnsafeBufferPointer(start: UnsafeRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: UInt8.self), count: dataBytes))
            #else
                for sample in buffer { withUnsafeBytes(of: sample.littleEndian) { wav.append(contentsOf: $0) } }
            #endif
        }
        return wav
    }

    /// The length of `samples` in milliseconds at the engine rate.
    static func durationMs(_ samples: [Int16]) -> Int { samples.count * 1000 / TranscriptionEngineRate.hz }
}
