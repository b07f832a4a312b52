import CallVaultSIP
import NIOCore

extension SIPUserAgent {
    // MARK: CANCEL and BYE

    /// A CANCEL (RFC 3261 §9.2): an INVITE still being set up is ended with 487 and its recording
    /// closed; one already answered is not affected (the SRC sends a BYE instead).
    func handleCancel(_ request: SIPMessage, key: String, via: SIPVia, peer: SIPPeer) {
        let inviteKey = Self.transactionKey(method: "INVITE", via: via, message: request)
        if let pending = pendingInvites[inviteKey] {
            pending.cancelled = true
            respond(request, key: key, peer: peer, code: 200, toTag: pending.toTag)
            finish(pending, code: 487)
            pending.call?.end(MediaClose(code: 1000, reason: "cancelled"))
            return
        }
        respond(request, key: key, peer: peer, code: transactions[inviteKey] == nil ? 481 : 200)
    }

    func handleBye(_ request: SIPMessage, key: String, peer: SIPPeer) {
        guard let dialog = dialog(of: request) else { return respond(request, key: key, peer: peer, code: 481) }
        respond(request, key: key, peer: peer, code: 200, toTag: dialog.localTag)
        endDialog(dialog, close: .normal)
    }

    /// The recording ended on CallVault's side: tell the SRC with a BYE and end the dialog.
    func recorderClosed(dialogKey: String, close: MediaClose) {
        guard let dialog = dialogs[dialogKey], !dialog.ended else { return }
        logger.notice("SIP session ended by the recorder", metadata: ["sipCall": "\(dialog.callID)", "reason": "\(close.reason)"])
        sendBye(dialog, reason: close.reason)
        endDialog(dialog, close: close)
    }

    /// Ends a dialog once: timers stopped, the recording sealed and its call closed.
    @discardableResult
    func endDialog(_ dialog: SIPDialog, close: MediaClose) -> EventLoopFuture<Void> {
        guard !dialog.ended else { return loop.makeSucceededVoidFuture() }
        dialog.ended = true
        dialog.cancelTimers()
        dialogs[dialog.key] = nil
        return dialog.call.end(close).hop(to: loop)
    }

    // MARK: Session timers

    /// Restarts the RFC 4028 timer: without a refresh the session ends (with a BYE) at the interval
    /// minus max(32 s, a third of it), as §10 asks of the side that does not refresh.
    func restartSessionTimer(_ dialog: SIPDialog, seconds: Int) {
        dialog.sessionTimer?.task?.cancel()
        let margin = min(32, seconds / 3)
        let task = loop.scheduleTask(in: .seconds(Int64(seconds - margin))) {
            guard !dialog.ended else { return }
            self.metrics.protocolError("sip.sessionExpired")
            self.logger.notice("SIP session expired without a refresh", metadata: ["sipCall": "\(dialog.callID)"])
            self.sendBye(dialog, reason: "session expired")
            self.endDialog(dialog, close: MediaClose(code: 1000, reason: "session expired"))
        }
        dialog.sessionTimer = (seconds, task)
    }

    // MARK: Shutdown

    /// Graceful shutdown: every dialog gets a BYE and its recording is sealed; pending INVITEs get 503.
    func shutdown() -> EventLoopFuture<Void> {
        loop.flatSubmit {
            self.sweeper?.cancel()
            for pending in self.pendingInvites.values {
                pending.cancelled = true
                self.finish(pending, code: 503, detail: "shutting down", headers: [("Retry-After", "5")])
                pending.call?.end(.goingAway)
            }
            var ends: [EventLoopFuture<Void>] = []
            for dialog in self.dialogs.values {
                self.sendBye(dialog, reason: "recorder shutting down")
                ends.append(self.endDialog(dialog, close: .goingAway))
            }
            return EventLoopFuture.andAllComplete(ends, on: self.loop)
        }
    }
}
