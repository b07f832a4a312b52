import AsyncHTTPClient
import CallVaultAudio
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization

/// What every simulated call shares: the audio as base64 μ-law payloads (one per 20 ms frame,
/// computed once), the plan, and the tallies.
final class SimulationScript: Sendable {
    /// Each track's `media` messages up to the per-call part (`..."streamSid":"MZ`), built once: a
    /// call copies one and appends its own id, so the client spends little per frame.
    let callerMessages: [ByteBuffer]
    let botMessages: [ByteBuffer]?
    let frames: Int
    let consentFrame: Int?
    let digit: String
    /// Twilio `mark` messages to send before a frame (by frame index): what Twilio echoes once the bot's
    /// audio before the mark has played (`sensitive-start`/`sensitive-end` open and close a sensitive window).
    let marks: [Int: [String]]
    /// The bot's utterances to send through the control API before a frame (by frame index).
    let utterances: [Int: [(startMs: Int, text: String)]]
    /// `http://HOST:PORT` of the server's control API, and the tenant's token.
    let controlURL: String
    let token: String
    /// Sends the utterances (with the TLS settings of the calls, for https://).
    let httpClient: HTTPClient
    /// What became of the utterances: how many were kept, why the others were refused.
    let utteranceOutcomes = Mutex<(kept: Int, refused: [String])>((0, []))
    let realtime: Bool
    /// Frames per write in real time (each track's): 1 as Twilio paces, more to load a server with
    /// fewer, larger reads.
    let framesPerWrite: Int
    /// Frames sent, all calls.
    let sent = Atomic<Int>(0)
    let failures = Mutex<[String]>([])
    /// How late real-time frames left, in ms (index 0...1000; the last bucket is "1 s or more").
    let lag = Mutex([Int](repeating: 0, count: 1001))

    init(
        caller: [UInt8], bot: [UInt8]?, consentFrame: Int?, digit: String, realtime: Bool, framesPerWrite: Int = 1,
        marks: [Int: [String]] = [:],
        utterances: [Int: [(startMs: Int, text: String)]] = [:], controlURL: String = "", token: String = "",
        tls: TLSConfiguration? = nil
    ) {
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = tls
        httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.utterances = utterances
        self.controlURL = controlURL
        self.token = token
        func messages(_ audio: [UInt8], track: String) -> [ByteBuffer] {
            stride(from: 0, to: audio.count, by: 160).enumerated().map { index, offset in
                let payload = Data(audio[offset..<min(audio.count, offset + 160)]).base64EncodedString()
                return ByteBuffer(
                    string: #"{"event":"media","sequenceNumber":"\#(index + 2)","media":{"track":"\#(track)","chunk":"\#(index + 1)","timestamp":"\#(index * 20)","payload":"\#(payload)"},"streamSid":"MZ"#)
            }
        }
        callerMessages = messages(caller, track: "inbound")
        botMessages = bot.map { messages($0, track: "outbound") }
        frames = max(callerMessages.count, botMessages?.count ?? 0)
        self.consentFrame = consentFrame
        self.digit = digit
        self.marks = marks
        self.realtime = realtime
        self.framesPerWrite = framesPerWrite
    }

    /// p50, p99 and max of the send lag, in ms.
    var lagPercentiles: (p50: Int, p99: Int, max: Int) {
        let counts = lag.withLock { $0 }
        let total = counts.reduce(0, +)
        guard total > 0 else { return (0, 0, 0) }
        func percentile(_ p: Double) -> Int {
            var seen = 0
            for (ms, count) in counts.enumerated() {
                seen += count
                if Double(seen) >= p * Double(total) { return ms }
            }
            return 1000
        }
        return (percentile(0.5), percentile(0.99), counts.lastIndex { $0 > 0 } ?? 0)
    }
}

/// One simulated Twilio Media Streams call on a NIO channel: `connected`, `start`, then both tracks'
/// `media` interleaved every 20 ms (scheduled at absolute deadlines, so it does not drift) or as fast
/// as the socket takes them, a DTMF key at the consent second, `stop`, and the server's close.
final class SimulatedCallHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let script: SimulationScript
    private let callSid: String
    private let done: EventLoopPromise<Void>
    private var frame = 0
    private var begin = NIODeadline.now()
    private var lag = [Int](repeating: 0, count: 1001)
    private var sent = 0
    private var finished = false
    /// `<callSid>"}`: what ends every media message of this call.
    private let suffix: [UInt8]

    init(script: SimulationScript, callSid: String, done: EventLoopPromise<Void>) {
        self.script = script
        self.callSid = callSid
        self.done = done
        self.suffix = Array((callSid + "\"}").utf8)
    }

    /// Starts once the upgrade is complete (the HTTP handlers are gone): see ``StartSimulatedCall``.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is StartSimulatedCall else { return context.fireUserInboundEventTriggered(event) }
        send(context, #"{"event":"connected","protocol":"Call","version":"1.0.0"}"#)
        send(
            context,
            #"{"event":"start","sequenceNumber":"1","start":{"accountSid":"ACsimulate","streamSid":"MZ\#(callSid)","callSid":"\#(callSid)","tracks":["inbound","outbound"],"customParameters":{},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ\#(callSid)"}"#
        )
        context.flush()
        begin = .now()
        next(context)
    }

    /// Sends the frames that are due (one, or `framesPerWrite`, in real time; a batch otherwise) and
    /// schedules the rest.
    private func next(_ context: ChannelHandlerContext) {
        guard !finished else { return }
        let batch = script.realtime ? script.framesPerWrite : 50
        // In real time a write is due when the last of its frames is (the first write goes at once).
        let due = begin + .milliseconds(Int64(20 * (frame + batch - 1)))
        for _ in 0..<batch where frame < script.frames {
            // The platform tells the server what its bot says as the audio goes out: the stream waits for
            // the answer, so the utterance arrives where the call is, in either pace.
            if let due = script.utterances[frame], postedFor != frame {
                postedFor = frame
                context.flush()
                return post(due, context)
            }
            if script.realtime {
                let late = Int((NIODeadline.now() - due).nanoseconds / 1_000_000)
                lag[min(1000, max(0, late))] += 1
            }
            sendFrame(context, frame)
            frame += 1
        }
        context.flush()
        guard frame < script.frames else { return finish(context) }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        if script.realtime {
            context.eventLoop.scheduleTask(deadline: begin + .milliseconds(Int64(20 * (frame + batch - 1)))) {
                let (handler, context) = bound.value
                handler.next(context)
            }
        } else if context.channel.isWritable {
            context.eventLoop.execute {
                let (handler, context) = bound.value
                handler.next(context)
            }
        }  // else channelWritabilityChanged resumes
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !script.realtime && context.channel.isWritable { next(context) }
        context.fireChannelWritabilityChanged()
    }

    /// The frame whose utterances were posted (so they are posted once).
    private var postedFor = -1
    private var utteranceCount = 0

    /// POSTs `due` to the control API one after the other, then goes on streaming.
    ///
    /// A 409 "not being recorded now" or a 404 (the server has not read the stream's `start` yet) is tried
    /// again every 50 ms for up to a second while the stream is held: streaming faster than real time, the
    /// call is seconds ahead of what the server has stored (evidence first). An utterance from before the
    /// consent stays refused.
    private func post(_ due: [(startMs: Int, text: String)], _ context: ChannelHandlerContext, attempt: Int = 1) {
        guard let (startMs, text) = due.first else { return next(context) }
        if attempt == 1 { utteranceCount += 1 }
        let id = "u\(utteranceCount)"
        let body: [String: Any] = ["id": id, "text": text, "startMs": startMs]
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let script = self.script
        let callSid = self.callSid
        do {
            var request = try HTTPClient.Request(
                url: "\(script.controlURL)/v1/calls/\(callSid)/utterances", method: .POST)
            request.headers.add(name: "Authorization", value: "Bearer \(script.token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(try JSONSerialization.data(withJSONObject: body))
            // The client's own loops do the request; its answer comes back to this call's loop.
            script.httpClient.execute(request: request, deadline: .now() + .seconds(10)).hop(to: context.eventLoop)
                .whenComplete { result in
                    if case .success(let response) = result, attempt < 20,
                        response.status == .notFound
                            || (response.status == .conflict
                                && response.body?.readableBytesView.firstRange(of: Array("not being recorded".utf8)) != nil)
                    {
                        bound.eventLoop.scheduleTask(in: .milliseconds(50)) {
                            let (handler, context) = bound.value
                            handler.post(due, context, attempt: attempt + 1)
                        }
                        return
                    }
                    script.utteranceOutcomes.withLock { outcomes in
                        switch result {
                        case .success(let response) where response.status == .created: outcomes.kept += 1
                        case .success(let response):
                            let detail = response.body.flatMap { $0.getString(at: $0.readerIndex, length: $0.readableBytes) }
                                .flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }?["detail"]
                            outcomes.refused.append("\(callSid) \(id) at \(startMs) ms: \(response.status.code) \(detail ?? "")")
                        case .failure(let error): outcomes.refused.append("\(callSid) \(id): \(error)")
                        }
                    }
                    let (handler, context) = bound.value
                    handler.post(Array(due.dropFirst()), context)
                }
        } catch {
            script.utteranceOutcomes.withLock { $0.refused.append("\(callSid) \(id): \(error)") }
            post(Array(due.dropFirst()), context)
        }
    }

    private func sendFrame(_ context: ChannelHandlerContext, _ index: Int) {
        if index == script.consentFrame {
            send(context, #"{"event":"dtmf","streamSid":"MZ\#(callSid)","dtmf":{"track":"inbound_track","digit":"\#(script.digit)"}}"#)
        }
        for name in script.marks[index] ?? [] {
            send(context, #"{"event":"mark","streamSid":"MZ\#(callSid)","mark":{"name":"\#(name)"}}"#)
        }
        for messages in [script.callerMessages, script.botMessages] {
            guard let messages, index < messages.count else { continue }
            var prefix = messages[index]
            var buffer = context.channel.allocator.buffer(capacity: prefix.readableBytes + suffix.count)
            buffer.writeBuffer(&prefix)
            buffer.writeBytes(suffix)
            context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)), promise: nil)
            sent += 1
        }
    }

    private func send(_ context: ChannelHandlerContext, _ text: String) {
        let buffer = context.channel.allocator.buffer(string: text)
        // Client frames are masked (RFC 6455); the key's value does not matter here.
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)), promise: nil)
    }

    private func finish(_ context: ChannelHandlerContext) {
        finished = true
        send(context, #"{"event":"stop","sequenceNumber":"\#(script.frames + 2)","stop":{"accountSid":"ACsimulate","callSid":"\#(callSid)"},"streamSid":"MZ\#(callSid)"}"#)
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.opcode == .connectionClose else { return }
        var payload = frame.unmaskedData
        let code = payload.readInteger(as: UInt16.self) ?? 1005
        let reason = payload.readString(length: payload.readableBytes) ?? ""
        if code != 1000 || !finished { fail("closed by the server with \(code) \(reason)") }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed()
        context.fireChannelInactive()
    }

    /// The call is over: counts it (a failure, for `reason` or unless it finished) and completes it, once.
    /// Called from `channelInactive`, the channel's close future, a refused upgrade and a failed connect
    /// (``SimulatedCallConnector``), whichever comes first; the first failure named is the one counted.
    func closed(because reason: String? = nil) {
        if let reason { fail(reason) }
        if !finished { fail("connection lost after \(frame) frame(s)") }
        report()
        done.succeed(())
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail("\(error)")
        context.close(promise: nil)
    }

    private var failed = false
    private func fail(_ what: String) {
        guard !failed else { return }
        failed = true
        finished = true
        script.failures.withLock { $0.append("\(callSid): \(what)") }
    }

    private var reported = false
    private func report() {
        guard !reported else { return }
        reported = true
        script.sent.add(sent, ordering: .relaxed)
        if script.realtime {
            let mine = lag
            script.lag.withLock { total in for index in 0..<total.count { total[index] += mine[index] } }
        }
    }
}

/// Sent down a simulated call's pipeline when its WebSocket upgrade completed: writing earlier would
/// meet the HTTP encoder still in the pipeline.
struct StartSimulatedCall: Sendable {}

/// Connects one simulated call: TCP, the HTTP upgrade to a WebSocket at `path`, then the handler.
enum SimulatedCallConnector {
    static func connect(
        group: any EventLoopGroup, host: String, port: Int, path: String, script: SimulationScript, callSid: String,
        tls: NIOSSLContext? = nil
    ) -> EventLoopFuture<Void> {
        let loop = group.next()
        let done = loop.makePromise(of: Void.self)
        loop.execute {
            // Every way a call can end goes through its handler, once: a failed connect, a refused upgrade,
            // the connection's close (also when it closed while the upgrade completed, under heavy load,
            // before the handler saw any event), so `done` completes for every call.
            let handler = NIOLoopBound(SimulatedCallHandler(script: script, callSid: callSid, done: done), eventLoop: loop)
            ClientBootstrap(group: loop)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        channel.closeFuture.whenComplete { _ in handler.value.closed() }
                        if let tls {
                            // SNI and the name check take a host name; an IP address is checked against the
                            // certificate's IP addresses instead.
                            let isAddress = (try? SocketAddress(ipAddress: host, port: port)) != nil
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: tls, serverHostname: isAddress ? nil : host))
                        }
                        let upgrader = NIOTypedWebSocketClientUpgrader<Bool>(
                            maxFrameSize: 1 << 16,
                            upgradePipelineHandler: { channel, _ in
                                channel.eventLoop.makeCompletedFuture {
                                    try channel.pipeline.syncOperations.addHandler(handler.value)
                                    return true
                                }
                            })
                        var headers = HTTPHeaders()
                        headers.add(name: "Host", value: "\(host):\(port)")
                        headers.add(name: "Content-Length", value: "0")
                        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                        let configuration = NIOTypedHTTPClientUpgradeConfiguration<Bool>(
                            upgradeRequestHead: head, upgraders: [upgrader],
                            notUpgradingCompletionHandler: { channel in
                                channel.close().map { false }
                            })
                        let upgraded = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                            configuration: .init(upgradeConfiguration: configuration))
                        upgraded.whenComplete { result in
                            if case .success(true) = result {
                                channel.pipeline.fireUserInboundEventTriggered(StartSimulatedCall())
                                return
                            }
                            handler.value.closed(because: "the WebSocket upgrade was refused")
                            channel.close(promise: nil)
                        }
                    }
                }
                .connect(host: host, port: port)
                .whenFailure { error in handler.value.closed(because: "cannot connect: \(error)") }
        }
        return done.futureResult
    }
}
