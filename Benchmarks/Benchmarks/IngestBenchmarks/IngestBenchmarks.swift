import Benchmark
import CallVaultAudio
import CallVaultIngest
import Foundation

/// A Twilio `media` message as Media Streams send it: 20 ms of 8 kHz μ-law (160 bytes, 216 base64 characters).
func twilioMediaMessage() -> [UInt8] {
    let payload = (0..<160).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    let base64 = Data(payload).base64EncodedString()
    let text =
        #"{"event":"media","sequenceNumber":"42","media":{"track":"inbound","chunk":"41","timestamp":"800","#
        + #""payload":""# + base64 + #""},"streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0"}"#
    return Array(text.utf8)
}

/// An AudioSocket 8 kHz slin message: 20 ms = 320 bytes.
func audioSocketAudioMessage() -> [UInt8] {
    [0x10, 0x01, 0x40] + (0..<320).map { UInt8(truncatingIfNeeded: $0) }
}

// Names have no spaces or slashes: `thresholds update` writes files with those replaced by `_`,
// but `thresholds check` looks for the raw name, so a name with a space can never be checked.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .throughput, .wallClock],
        scalingFactor: .kilo,
        maxDuration: .seconds(2)
    )

    Benchmark("Twilio_media_parse_base64_160B") { benchmark in
        let message = twilioMediaMessage()
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 8)
        defer { payload.deallocate() }
        message.withUnsafeBytes { text in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try? TwilioMediaMessage.parse(text, payloadInto: payload))
            }
            benchmark.stopMeasurement()
        }
    }

    Benchmark("Twilio_media_parse_base64_frame") { benchmark in
        let message = twilioMediaMessage()
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 8)
        defer { payload.deallocate() }
        let assembler = FrameAssembler(encoding: .muLaw, sampleRate: .hz8000)
        message.withUnsafeBytes { text in
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations {
                // The server's entry point: one pass that reads media whole and classifies the rest.
                guard case .media(let media)? = try? TwilioMessage.parse(text, payloadInto: payload) else { continue }
                var chunk = AudioChunk(
                    UnsafeRawBufferPointer(rebasing: payload[..<media.payloadCount]),
                    timestampMs: Int64(i) * 20
                )
                while let frame = try? assembler.nextFrame(from: &chunk) {
                    blackHole(frame.samples[0])
                }
            }
            benchmark.stopMeasurement()
        }
    }

    Benchmark("AudioSocket_parse_320B_whole") { benchmark in
        let parser = AudioSocketParser()
        let uuid: [UInt8] = [0x01, 0x00, 0x10] + (0..<16).map { UInt8($0) }
        uuid.withUnsafeBytes { bytes in
            var input = bytes
            blackHole(try? parser.next(from: &input))
        }
        let message = audioSocketAudioMessage()
        message.withUnsafeBytes { bytes in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                var input = bytes
                if case .audio(_, let payload)? = try? parser.next(from: &input) {
                    blackHole(payload.count)
                }
            }
            benchmark.stopMeasurement()
        }
    }

    Benchmark("AudioSocket_parse_320B_split3_frame") { benchmark in
        let parser = AudioSocketParser()
        let assembler = FrameAssembler(encoding: .l16LittleEndian, sampleRate: .hz8000)
        let uuid: [UInt8] = [0x01, 0x00, 0x10] + (0..<16).map { UInt8($0) }
        uuid.withUnsafeBytes { bytes in
            var input = bytes
            blackHole(try? parser.next(from: &input))
        }
        let message = audioSocketAudioMessage()
        message.withUnsafeBytes { bytes in
            let pieces = [
                UnsafeRawBufferPointer(rebasing: bytes[0..<2]), UnsafeRawBufferPointer(rebasing: bytes[2..<101]),
                UnsafeRawBufferPointer(rebasing: bytes[101...]),
            ]
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for piece in pieces {
                    var input = piece
                    while case .audio(_, let payload)? = try? parser.next(from: &input) {
                        var chunk = AudioChunk(payload)
                        while let frame = try? assembler.nextFrame(from: &chunk) {
                            blackHole(frame.samples[0])
                        }
                    }
                }
            }
            benchmark.stopMeasurement()
        }
    }
}
