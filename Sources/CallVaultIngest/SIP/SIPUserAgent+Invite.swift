import CallVaultModel
import CallVaultSIP
import NIOCore

extension SIPUserAgent {
    // MARK: INVITE

    func handleInvite(_ request: SIPMessage, key: String, cseq: SIPCSeq, peer: SIPPeer) {
        if Self.toTag(request) != nil { return handleReInvite(request, key: key, cseq: cseq, peer: peer) }
        let offer: SIPRECOffer
        do { offer = try SIPRECOffer.parse(request) } catch {
            if case .unsupportedContentType = error {
                return respond(request, key: key, peer: peer, code: 415, headers: [("Accept", "application/sdp, multipart/mixed")])
            }
            metrics.protocolError("sip.badOffer")
            return respond(request, key: key, peer: peer, code: 400, detail: error.description)
        }
        guard let sdp = offer.sdp else {
            return respond(request, key: key, peer: peer, code: 488, detail: "an INVITE without an SDP offer is not supported")
        }
        guard sdp.media.contains(where: { $0.kind == "audio" && $0.port != 0 }) else {
            return respond(request, key: key, peer: peer, code: 488, detail: "no audio stream offered")
        }
        let timer: SIPSessionTimer?
        do {
            timer = try SIPSessionTimer.answer(request)
            if let timer, timer.seconds < SIPSessionTimer.minimumSeconds {
                return respond(request, key: key, peer: peer, code: 422, headers: [("Min-SE", "\(SIPSessionTimer.minimumSeconds)")])
            }
        } catch { return respond(request, key: key, peer: peer, code: 400, detail: error.description) }
        guard let uri = try? SIPURI.parse(request.requestURI ?? ""), let user = uri.user, !user.isEmpty else {
            metrics.callRefused("sip.noTenant")
            return respond(request, key: key, peer: peer, code: 404, detail: "the request URI names no tenant (sip:TENANT@host)")
        }
        guard dialogs.count + pendingInvites.count < configuration.maximumDialogs else {
            metrics.callRefused("sip.dialogLimit")
            return respond(request, key: key, peer: peer, code: 503, detail: "dialog limit reached", headers: [("Retry-After", "5")])
        }
        let pending = SIPPendingInvite(request: request, peer: peer, transactionKey: key, toTag: Self.newTag())
        pendingInvites[key] = pending
        respond(request, key: key, peer: peer, code: 100, toTag: pending.toTag)
        let router = self.router
        let source = peer.host
        let loop = self.loop
        Task {
            let routed = await router.route(user: user, source: source)
            loop.execute { self.routed(pending, result: routed, offer: offer, sdp: sdp, timer: timer) }
        }
    }

    private func routed(
        _ pending: SIPPendingInvite, result: Result<Tenant, SIPTenantRouter.Refusal>, offer: SIPRECOffer, sdp: SDPSession,
        timer: SIPSessionTimer?
    ) {
        guard !pending.cancelled else { return }
        let tenant: Tenant
        switch result {
        case .failure(.unknownTenant):
            metrics.callRefused("sip.unknownTenant")
            return finish(pending, code: 404, detail: "no tenant by that name")
        case .failure(.sourceNotAllowed):
            metrics.callRefused("sip.sourceNotAllowed")
            logger.notice("SIP INVITE refused: source not allowed for the tenant", metadata: ["source": "\(pending.peer.host)"])
            return finish(pending, code: 403, detail: "this source address is not allowed for the tenant")
        case .failure(.catalogUnavailable):
            metrics.callRefused("catalogUnavailable")
            return finish(pending, code: 503, detail: "the catalog is unavailable", headers: [("Retry-After", "5")])
        case .success(let found):
            tenant = found
        }
        let callID = pending.request.callID ?? ""
        let call = SIPRECCall(
            context: context, ports: ports, configuration: configuration, sipCallID: callID, eventLoop: callLoops.next())
        pending.call = call
        // A plain call's customer is its From; a SIPREC session's comes from the metadata.
        let from = offer.detection.isSIPREC ? nil : pending.request.headers.first("From").flatMap { try? SIPNameAddress.parse($0).uri }
        call.start(tenant: tenant, offer: sdp, metadata: offer.metadata, siprec: offer.detection.isSIPREC, from: from)
            .hop(to: loop)
            .whenComplete { result in self.started(pending, result: result, offer: offer, sdp: sdp, timer: timer) }
    }

    private func started(
        _ pending: SIPPendingInvite, result: Result<[SDPAnswer.Stream], any Error>, offer: SIPRECOffer, sdp: SDPSession,
        timer: SIPSessionTimer?
    ) {
        guard let call = pending.call else { return }
        if pending.cancelled {
            call.end(MediaClose(code: 1000, reason: "cancelled"))
            return
        }
        switch result {
        case .failure(let error):
            let close = (error as? SIPRECCall.Refused)?.close ?? .serverError("the recording could not start")
            let (code, retry) = Self.status(for: close)
            finish(pending, code: code, detail: close.reason, headers: retry ? [("Retry-After", "5")] : [])
        case .success(let streams):
            accept(pending, call: call, streams: streams, offer: offer, sdp: sdp, timer: timer)
        }
    }

    /// A refusal's close as a SIP status: policy → 403, bad input → 488, limits and server trouble →
    /// 503 with Retry-After (an SBC then tries another recorder).
    static func status(for close: MediaClose) -> (Int, Bool) {
        switch close.code {
        case 1008: (403, false)
        case 1003, 1007: (488, false)
        default: (503, true)
        }
    }

    /// The final non-2xx answer to a pending INVITE.
    func finish(_ pending: SIPPendingInvite, code: Int, detail: String? = nil, headers: [(String, String)] = []) {
        pendingInvites[pending.transactionKey] = nil
        respond(pending.request, key: pending.transactionKey, peer: pending.peer, code: code, detail: detail, toTag: pending.toTag, headers: headers)
    }

    private func accept(
        _ pending: SIPPendingInvite, call: SIPRECCall, streams: [SDPAnswer.Stream], offer: SIPRECOffer, sdp: SDPSession,
        timer: SIPSessionTimer?
    ) {
        pendingInvites[pending.transactionKey] = nil
        let request = pending.request
        let contact = (try? request.contacts().first)?.uri ?? request.headers.first("From").flatMap { try? SIPNameAddress.parse($0).uri } ?? ""
        guard let callID = request.callID, let remoteTag = Self.fromTag(request), let cseq = try? request.cseq(),
            let from = request.headers.first("From"), let to = request.headers.first("To")
        else {
            call.end(.invalid("the INVITE has no From tag"))
            return respond(request, key: pending.transactionKey, peer: pending.peer, code: 400, detail: "no From tag", toTag: pending.toTag)
        }
        let dialog = SIPDialog(
            callID: callID, localTag: pending.toTag, remoteTag: remoteTag, remoteAddress: from,
            localAddress: to + ";tag=\(pending.toTag)", remoteTarget: contact,
            routeSet: request.headers.values("Record-Route"), peer: pending.peer, call: call, remoteCSeq: cseq.number,
            offer: sdp, sessionID: UInt64.random(in: 1...UInt64(Int64.max)))
        dialogs[dialog.key] = dialog
        let bound = NIOLoopBound(self, eventLoop: loop)
        let key = dialog.key
        call.onRecorderClose = { close in
            bound.eventLoop.execute { bound.value.recorderClosed(dialogKey: key, close: close) }
        }
        answer2xx(request, key: pending.transactionKey, dialog: dialog, streams: streams, siprec: offer.detection.isSIPREC, timer: timer)
        metrics.protocolError("sip.accepted")
        logger.info(
            "SIP session accepted",
            metadata: [
                "sipCall": "\(callID)", "siprec": "\(offer.detection.isSIPREC)",
                "streams": "\(streams.filter { $0.port != 0 }.count)", "metadata": "\(offer.metadata != nil)",
            ])
    }

    /// Sends the 2xx with the SDP answer, retransmitted until the ACK (RFC 3261 §13.3.1.4), and starts
    /// the session timer if one was negotiated.
    func answer2xx(
        _ request: SIPMessage, key: String, dialog: SIPDialog, streams: [SDPAnswer.Stream], siprec: Bool,
        timer: SIPSessionTimer?
    ) {
        let body = SDPAnswer.render(
            offer: dialog.offer, streams: streams, address: configuration.mediaAddress, sessionID: dialog.sessionID,
            version: dialog.answerVersion)
        var headers: [(String, String)] = [
            ("Contact", contact(answering: request, on: dialog.peer.transport) + (siprec ? ";+sip.srs" : "")),
            ("Allow", Self.allowedMethods), ("Supported", "siprec, timer"),
        ]
        if let timer {
            headers.append(("Session-Expires", timer.headerValue))
            headers.append(("Require", "timer"))
        }
        respond(request, key: key, peer: dialog.peer, code: 200, toTag: dialog.localTag, headers: headers, body: ("application/sdp", body))
        guard let response = transactions[key]?.response, let cseq = try? request.cseq() else { return }
        // The dialog retransmits the 2xx until the ACK; a retransmitted INVITE gets it from the cache.
        dialog.pending2xx = (response, cseq.number, configuration.t1, .now())
        scheduleRetransmission(dialog)
        if let timer { restartSessionTimer(dialog, seconds: timer.seconds) }
    }

    /// Our Contact, the dialog's remote target for the SRC: the listener of the transport the request
    /// came on, `sip:HOST:PORT;transport=tls` (or `tcp`, `udp`); a `sips:` request over TLS gets a
    /// `sips:` Contact, as RFC 3261 §12.1.1 asks, so the SRC keeps the dialog on TLS.
    func contact(answering request: SIPMessage, on transport: SIPServerConfiguration.Transport) -> String {
        let hostPort = contactHostPort(transport)
        if transport == .tls, (try? SIPURI.parse(request.requestURI ?? ""))?.scheme == "sips" { return "<sips:\(hostPort)>" }
        return "<sip:\(hostPort);transport=\(transport.rawValue)>"
    }

    private func scheduleRetransmission(_ dialog: SIPDialog) {
        guard let pending = dialog.pending2xx else { return }
        dialog.retransmission?.cancel()
        guard !dialog.peer.isStream else { return }  // reliable transport: sent once (§17.2.1)
        dialog.retransmission = loop.scheduleTask(in: pending.interval) {
            guard let current = dialog.pending2xx, !dialog.ended else { return }
            if NIODeadline.now() - current.since >= self.configuration.t1 * 64 {
                dialog.pending2xx = nil
                self.metrics.protocolError("sip.ackTimeout")
                self.logger.notice("SIP session ended: no ACK for the 2xx", metadata: ["sipCall": "\(dialog.callID)"])
                self.sendBye(dialog, reason: "no ACK")
                self.endDialog(dialog, close: MediaClose(code: 1000, reason: "no ACK"))
                return
            }
            dialog.peer.send(current.bytes)
            dialog.pending2xx = (current.bytes, current.cseq, min(current.interval * 2, self.configuration.t2), current.since)
            self.scheduleRetransmission(dialog)
        }
    }

    func handleAck(_ message: SIPMessage) {
        guard let dialog = dialog(of: message), let cseq = try? message.cseq() else { return }
        if let pending = dialog.pending2xx, pending.cseq == cseq.number {
            dialog.pending2xx = nil
            dialog.retransmission?.cancel()
            dialog.retransmission = nil
        }
    }

    // MARK: re-INVITE and UPDATE

    private func handleReInvite(_ request: SIPMessage, key: String, cseq: SIPCSeq, peer: SIPPeer) {
        guard let dialog = dialog(of: request) else { return respond(request, key: key, peer: peer, code: 481) }
        guard cseq.number > dialog.remoteCSeq else {
            return respond(request, key: key, peer: peer, code: 500, detail: "CSeq out of order", headers: [("Retry-After", "1")])
        }
        if dialog.pending2xx != nil {
            // The last INVITE's 2xx is not ACKed yet: the offer/answer exchange is still open (glare).
            dialog.remoteCSeq = cseq.number
            return respond(request, key: key, peer: peer, code: 491, toTag: dialog.localTag)
        }
        dialog.remoteCSeq = cseq.number
        refresh(request, key: key, dialog: dialog, peer: peer, isInvite: true)
    }

    func handleUpdate(_ request: SIPMessage, key: String, peer: SIPPeer) {
        guard let dialog = dialog(of: request), let cseq = try? request.cseq() else {
            return respond(request, key: key, peer: peer, code: 481)
        }
        guard cseq.number > dialog.remoteCSeq else {
            return respond(request, key: key, peer: peer, code: 500, detail: "CSeq out of order", headers: [("Retry-After", "1")])
        }
        dialog.remoteCSeq = cseq.number
        refresh(request, key: key, dialog: dialog, peer: peer, isInvite: false)
    }

    /// A re-INVITE or UPDATE: a new offer changes the streams' directions (pause/resume); without one
    /// (a session refresh, or a metadata-only update) the last answer is repeated. Either refreshes the
    /// session timer.
    private func refresh(_ request: SIPMessage, key: String, dialog: SIPDialog, peer: SIPPeer, isInvite: Bool) {
        let offer: SIPRECOffer
        let timer: SIPSessionTimer?
        do {
            offer = try SIPRECOffer.parse(request)
            timer = try SIPSessionTimer.answer(request)
        } catch {
            metrics.protocolError("sip.badOffer")
            return respond(request, key: key, peer: peer, code: 400, detail: error.description, toTag: dialog.localTag)
        }
        if let sdp = offer.sdp {
            dialog.offer = sdp
            dialog.answerVersion += 1
        }
        dialog.peer = peer
        let siprec = offer.detection.isSIPREC
        let sdp = offer.sdp
        dialog.call.update(offer: dialog.offer).hop(to: loop).whenComplete { result in
            guard !dialog.ended else { return self.respond(request, key: key, peer: peer, code: 481) }
            guard case .success(let streams) = result else {
                return self.respond(request, key: key, peer: peer, code: 500, toTag: dialog.localTag)
            }
            if isInvite || sdp != nil {
                if isInvite {
                    self.answer2xx(request, key: key, dialog: dialog, streams: streams, siprec: siprec, timer: timer)
                } else {
                    let body = SDPAnswer.render(
                        offer: dialog.offer, streams: streams, address: self.configuration.mediaAddress,
                        sessionID: dialog.sessionID, version: dialog.answerVersion)
                    self.respond(
                        request, key: key, peer: peer, code: 200, toTag: dialog.localTag,
                        headers: timer.map { [("Session-Expires", $0.headerValue), ("Require", "timer")] } ?? [],
                        body: ("application/sdp", body))
                    if let timer { self.restartSessionTimer(dialog, seconds: timer.seconds) }
                }
            } else {
                self.respond(
                    request, key: key, peer: peer, code: 200, toTag: dialog.localTag,
                    headers: timer.map { [("Session-Expires", $0.headerValue), ("Require", "timer")] } ?? [])
                if let timer { self.restartSessionTimer(dialog, seconds: timer.seconds) }
            }
        }
    }
}
