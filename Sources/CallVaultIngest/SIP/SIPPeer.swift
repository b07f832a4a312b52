import NIOCore

/// Where a SIP message came from, and the way back: the datagram socket it arrived on and the sender's
/// address (responses go to the source port: RFC 3581 `rport`, which every SBC behind NAT needs), or
/// the TCP or TLS connection it arrived on.
struct SIPPeer: Sendable {
    let channel: any Channel
    let address: SocketAddress
    let transport: SIPServerConfiguration.Transport

    var isStream: Bool { transport.isStream }
    /// The Via transport of requests sent to this peer (`UDP`, `TCP`, `TLS`).
    var transportName: String { transport.viaName }
    var host: String { address.ipAddress ?? "?" }
    var port: Int { address.port ?? 0 }

    func send(_ message: SIPMessageBytes) {
        let buffer = channel.allocator.buffer(bytes: message.bytes)
        if isStream {
            channel.writeAndFlush(buffer, promise: nil)
        } else {
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
        }
    }
}

/// A serialized message (a response kept for retransmission, a request retransmitted).
struct SIPMessageBytes: Sendable {
    let bytes: [UInt8]
}
