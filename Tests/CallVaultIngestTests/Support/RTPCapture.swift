import CallVaultAudio
import Foundation

/// Writes RTP as a pcap file (Ethernet, IPv4, UDP) for sipp's `play_pcap_audio`, which replays it with
/// its timing to the media ports the recorder answered (each packet's destination port, relative to
/// the lowest one in the file, is added to the answer's first port: streams 2 ports apart here land on
/// the recorder's adjacent port pairs).
enum RTPCapture {
    /// One labelled stream: 8 kHz audio sent as PCMU (20 ms per packet), DTMF keys as RFC 4733 events.
    struct Stream {
        var port: Int
        var ssrc: UInt32
        var samples: [Int16]
        /// (when, in ms from the start; the key: 0–9, 10 = `*`, 11 = `#`)
        var keys: [(atMs: Int, event: UInt8)] = []
        var payloadType: UInt8 = 0
        var eventPayloadType: UInt8 = 101
    }

    /// A sine tone, `seconds` long, at `hertz`, at a speech-like level.
    static func tone(_ hertz: Double, seconds: Double, amplitude: Double = 8000) -> [Int16] {
        (0..<Int(seconds * 8000)).map { Int16(amplitude * sin(2 * .pi * hertz * Double($0) / 8000)) }
    }

    /// One stream's RTP packets with their send times (µs from the start), in time order.
    static func packets(_ stream: Stream) -> [(timeUs: Int, rtp: [UInt8])] {
        pcapPackets([stream]).map { ($0.timeUs, $0.rtp) }
    }

    static func pcap(_ streams: [Stream]) -> [UInt8] {
        let packets = pcapPackets(streams)
        var out: [UInt8] = []
        out += le32(0xa1b2_c3d4) + le16(2) + le16(4) + le32(0) + le32(0) + le32(65_535) + le32(1)
        for packet in packets {
            let udpLength = 8 + packet.rtp.count
            let ipLength = 20 + udpLength
            var ip: [UInt8] = [0x45, 0] + be16(ipLength) + [0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]
            let sum = checksum(ip)
            ip[10] = UInt8(sum >> 8)
            ip[11] = UInt8(sum & 0xff)
            let frame = [UInt8](repeating: 0, count: 12) + [0x08, 0x00] + ip + be16(packet.source) + be16(packet.destination)
                + be16(udpLength) + [0, 0] + packet.rtp
            out += le32(UInt32(packet.timeUs / 1_000_000)) + le32(UInt32(packet.timeUs % 1_000_000))
                + le32(UInt32(frame.count)) + le32(UInt32(frame.count)) + frame
        }
        return out
    }

    /// Every packet of every stream with its send time; within a stream, sequence numbers follow the
    /// send order across audio and key packets, as a real sender numbers them.
    private static func pcapPackets(_ streams: [Stream]) -> [(timeUs: Int, source: Int, destination: Int, rtp: [UInt8])] {
        var packets: [(timeUs: Int, source: Int, destination: Int, rtp: [UInt8])] = []
        for stream in streams {
            var planned: [(timeUs: Int, pt: UInt8, marker: Bool, timestamp: UInt32, payload: [UInt8])] = []
            let frames = stream.samples.count / 160
            for frame in 0..<frames {
                let payload = stream.samples[(frame * 160)..<(frame * 160 + 160)].map(G711.linearToMuLaw)
                planned.append((frame * 20_000, stream.payloadType, frame == 0, UInt32(frame * 160), payload))
            }
            for key in stream.keys {
                // RFC 4733: one timestamp for the event, duration growing every 20 ms, then three end packets.
                let timestamp = UInt32(key.atMs * 8)
                for step in 0..<8 {
                    let end = step >= 5
                    let duration = UInt16(min(step, 4) * 160 + 160)
                    let body: [UInt8] = [key.event, (end ? 0x80 : 0) | 10, UInt8(duration >> 8), UInt8(duration & 0xff)]
                    planned.append((key.atMs * 1000 + step * 20_000 + 5, stream.eventPayloadType, step == 0, timestamp, body))
                }
            }
            planned.sort { $0.timeUs < $1.timeUs }
            var sequence: UInt16 = 1000
            for packet in planned {
                let rtp = header(pt: packet.pt, marker: packet.marker, sequence: sequence, timestamp: packet.timestamp, ssrc: stream.ssrc)
                packets.append((packet.timeUs, stream.port, stream.port, rtp + packet.payload))
                sequence &+= 1
            }
        }
        return packets.sorted { $0.timeUs < $1.timeUs }
    }

    private static func header(pt: UInt8, marker: Bool, sequence: UInt16, timestamp: UInt32, ssrc: UInt32) -> [UInt8] {
        [0x80, (marker ? 0x80 : 0) | pt] + be16(Int(sequence)) + be32(timestamp) + be32(ssrc)
    }

    private static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        for i in stride(from: 0, to: bytes.count, by: 2) { sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]) }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    private static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
    private static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
    private static func be16(_ v: Int) -> [UInt8] { [UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }
    private static func be32(_ v: UInt32) -> [UInt8] { (0..<4).reversed().map { UInt8((v >> (8 * $0)) & 0xff) } }
}
