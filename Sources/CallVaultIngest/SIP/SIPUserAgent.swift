import CallVaultModel
import CallVaultSIP
import Logging
import NIOCore

/// CallVault's SIP user-agent server (RFC 3261): the server transactions (each request's last response
/// kept and resent when the request is retransmitted), the dialogs it accepted, and the routing of
/// each request — INVITE and re-INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE — with what it does not
/// support refused by the right status code. Recording sessions (``SIPRECCall``) run on their own loops.
///
/// Confined to `loop`: every entry point runs there (the listeners hop to it), so its tables need no lock.
final class SIPUserAgent: @unchecked Sendable {
    let loop: any EventLoop
    let configuration: SIPServerConfiguration
    let context: IngestContext
    let router: SIPTenantRouter
    let ports: RTPPortPool
    let callLoops: any EventLoopGroup
    var logger: Logger { context.logger }
    var metrics: IngestMetrics { context.metrics }
    /// `host:port` of the first listener of each transport, for Contact and Via: a dialog that came over
    /// TLS is reached at the TLS port (5061), not the UDP one.
    var contactHostPorts: [SIPServerConfiguration.Transport: String] = [:]

    /// Each request's transaction: its last response (resent on a retransmission), until it expires.
    var transactions: [String: ServerTransaction] = [:]
    var pendingInvites: [String: SIPPendingInvite] = [:]
    var dialogs: [String: SIPDialog] = [:]
    /// Our BYEs waiting for a response: retransmitted over UDP until one comes.
    var byes: [String: Scheduled<Void>] = [:]
    var sweeper: RepeatedTask?

    struct ServerTransaction {
        var response: SIPMessageBytes?
        var peer: SIPPeer
        var expires: NIODeadline?
        /// The final response's status, for an ACK to a non-2xx final (absorbed by the transaction).
        var finalCode: Int?
    }

    /// Option tags CallVault supports (a Require naming another gets 420).
    static let supportedOptions: Set<String> = ["siprec", "timer"]
    static let allowedMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO"

    init(
        loop: any EventLoop, configuration: SIPServerConfiguration, context: IngestContext, callLoops: any EventLoopGroup
    ) {
        self.loop = loop
        self.configuration = configuration
        self.context = context
        self.callLoops = callLoops
        router = SIPTenantRouter(catalog: context.catalog)
        ports = RTPPortPool(range: configuration.rtpPorts)
    }

    func start() {
        loop.execute {
            self.sweeper = self.loop.scheduleRepeatedTask(initialDelay: .seconds(5), delay: .seconds(5)) { _ in self.sweep() }
        }
    }

    /// Drops transactions whose time is up (32 s after their final response: 64·T1).
    private func sweep() {
        let now = NIODeadline.now()
        transactions = transactions.filter { $0.value.expires.map { $0 > now } ?? true }
    }

    // MARK: Receiving

    /// A message a listener parsed; hops to the user agent's loop.
    func receive(_ message: SIPMessage, from peer: SIPPeer) {
        loop.execute { self.handle(message, from: peer) }
    }

    private func handle(_ message: SIPMessage, from peer: SIPPeer) {
        if message.statusCode != nil { return handleResponse(message) }
        guard let method = message.method else { return }
        let vias: [SIPVia]
        do { vias = try message.vias() } catch {
            metrics.protocolError("sip.badVia")
            return  // without a Via there is nowhere to answer
        }
        guard let top = vias.first else {
            metrics.protocolError("sip.noVia")
            return
        }
        let key = Self.transactionKey(method: method == "ACK" ? "INVITE" : method, via: top, message: message)
        if method == "ACK" {
            if let transaction = transactions[key], let code = transaction.finalCode, code >= 300 { return }  // absorbed
            return handleAck(message)
        }
        if let transaction = transactions[key] {
            // A retransmission: the same answer again (none yet: still working on it).
            if let response = transaction.response { peer.send(response) }
            metrics.protocolError("sip.retransmission")
            return
        }
        transactions[key] = ServerTransaction(response: nil, peer: peer, expires: nil)
        let cseq: SIPCSeq
        do {
            guard let parsed = try message.cseq() else { return respond(message, key: key, peer: peer, code: 400, detail: "no CSeq") }
            cseq = parsed
        } catch { return respond(message, key: key, peer: peer, code: 400, detail: error.description) }
        for name in ["Call-ID", "From", "To"] where message.headers.first(name) == nil {
            return respond(message, key: key, peer: peer, code: 400, detail: "no \(name)")
        }
        guard cseq.method == method else {
            return respond(message, key: key, peer: peer, code: 400, detail: "the CSeq method is not the request's")
        }
        if let hops = message.headers.first("Max-Forwards"), Int(hops) == 0 {
            return respond(message, key: key, peer: peer, code: 483)
        }
        let required = (try? message.headers.list("Require")) ?? []
        let unsupported = required.filter { !Self.supportedOptions.contains($0.lowercased()) }
        if !unsupported.isEmpty, method != "CANCEL" {
            return respond(
                message, key: key, peer: peer, code: 420, headers: [("Unsupported", unsupported.joined(separator: ", "))])
        }
        switch method {
        case "INVITE": handleInvite(message, key: key, cseq: cseq, peer: peer)
        case "CANCEL": handleCancel(message, key: key, via: top, peer: peer)
        case "BYE": handleBye(message, key: key, peer: peer)
        case "UPDATE": handleUpdate(message, key: key, peer: peer)
        case "OPTIONS":
            respond(
                message, key: key, peer: peer, code: 200,
                headers: [
                    ("Allow", Self.allowedMethods), ("Accept", "application/sdp, multipart/mixed, application/rs-metadata+xml"),
                    ("Supported", "siprec, timer"),
                ])
        case "INFO":
            // In-dialog information (some SRCs send metadata or media control this way): acknowledged.
            respond(message, key: key, peer: peer, code: dialog(of: message) == nil ? 481 : 200)
        default:
            respond(message, key: key, peer: peer, code: 405, headers: [("Allow", Self.allowedMethods)])
        }
    }

    /// The RFC 3261 transaction id: the branch (magic cookie form) with the sent-by and method; for older
    /// peers, the Call-ID, CSeq number, From tag and method.
    static func transactionKey(method: String, via: SIPVia, message: SIPMessage) -> String {
        if let branch = via.branch, branch.hasPrefix("z9hG4bK") {
            return "\(branch)|\(via.host):\(via.port ?? 5060)|\(method)"
        }
        let number = (try? message.cseq())?.map { "\($0.number)" } ?? "?"
        return "\(message.callID ?? "")|\(number)|\(fromTag(message) ?? "")|\(method)"
    }

    static func fromTag(_ message: SIPMessage) -> String? {
        message.headers.first("From").flatMap { try? SIPNameAddress.parse($0) }?.parameters.parameter("tag")?.value
    }

    static func toTag(_ message: SIPMessage) -> String? {
        message.headers.first("To").flatMap { try? SIPNameAddress.parse($0) }?.parameters.parameter("tag")?.value
    }

    func dialog(of message: SIPMessage) -> SIPDialog? {
        guard let callID = message.callID, let tag = Self.fromTag(message) else { return nil }
        let dialog = dialogs[SIPDialog.key(callID: callID, remoteTag: tag)]
        guard let dialog, Self.toTag(message) == dialog.localTag else { return nil }
        return dialog
    }

    // MARK: Sending

    /// `host:port` where a peer on `transport` reaches this server (the listener it came in on).
    func contactHostPort(_ transport: SIPServerConfiguration.Transport) -> String {
        contactHostPorts[transport] ?? contactHostPorts.values.first ?? ""
    }

    /// Answers `request` with `code` and keeps the answer for retransmissions (a final one for 64·T1).
    func respond(
        _ request: SIPMessage, key: String, peer: SIPPeer, code: Int, detail: String? = nil, toTag: String? = nil,
        headers: [(String, String)] = [], body: (type: String, bytes: [UInt8])? = nil
    ) {
        var response = SIPMessage.response(
            to: request, code: code, reasonDetail: detail, toTag: toTag ?? Self.newTag(), source: (peer.host, peer.port))
        for (name, value) in headers { response.headers.append(name: name, value: value) }
        if let body {
            response.headers.append(name: "Content-Type", value: body.type)
            response.body = body.bytes
        }
        let bytes = SIPMessageBytes(bytes: response.serialized())
        let final = code >= 200
        transactions[key] = ServerTransaction(
            response: bytes, peer: peer, expires: final ? .now() + configuration.t1 * 64 : nil, finalCode: final ? code : nil)
        if code >= 400 { metrics.protocolError("sip.response\(code)") }
        peer.send(bytes)
    }

    /// Text for a quoted header value: quotes, backslashes and control characters dropped.
    static func quotable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(200).filter {
            $0 != "\"" && $0 != "\\" && $0.properties.generalCategory != .control
        }))
    }

    /// A tag or branch suffix: 64 random bits (the system generator, getrandom on Linux) in hex.
    static func newTag() -> String { String(UInt64.random(in: .min ... .max), radix: 16) }

    // MARK: Responses to our requests

    private func handleResponse(_ message: SIPMessage) {
        guard let callID = message.callID, let cseq = try? message.cseq(), cseq.method == "BYE",
            let code = message.statusCode, code >= 200
        else { return }
        byes.removeValue(forKey: "\(callID)|\(cseq.number)")?.cancel()
    }

    /// Sends a BYE in `dialog` (the recording ended on our side, or the SRC never ACKed or refreshed),
    /// retransmitted over UDP at T1, 2·T1, … up to T2 until a response comes or 64·T1 pass.
    func sendBye(_ dialog: SIPDialog, reason: String) {
        dialog.localCSeq += 1
        let cseq = dialog.localCSeq
        let via = "SIP/2.0/\(dialog.peer.transportName) \(contactHostPort(dialog.peer.transport));branch=z9hG4bK\(Self.newTag());rport"
        let request = SIPMessage.request(
            "BYE", remoteTarget: dialog.remoteTarget, routeSet: dialog.routeSet, via: via, from: dialog.localAddress,
            to: dialog.remoteAddress, callID: dialog.callID, cseq: cseq,
            extraHeaders: [("Reason", "SIP;cause=200;text=\"\(Self.quotable(reason))\"")])
        let bytes = SIPMessageBytes(bytes: request.serialized())
        let peer = dialog.peer
        peer.send(bytes)
        guard !peer.isStream else { return }
        let key = "\(dialog.callID)|\(cseq)"
        retransmitBye(key: key, bytes: bytes, peer: peer, after: configuration.t1, until: .now() + configuration.t1 * 64)
    }

    private func retransmitBye(key: String, bytes: SIPMessageBytes, peer: SIPPeer, after interval: TimeAmount, until deadline: NIODeadline) {
        byes[key] = loop.scheduleTask(in: interval) {
            guard NIODeadline.now() < deadline else {
                self.byes[key] = nil
                return
            }
            peer.send(bytes)
            self.retransmitBye(
                key: key, bytes: bytes, peer: peer, after: min(interval * 2, self.configuration.t2), until: deadline)
        }
    }
}
