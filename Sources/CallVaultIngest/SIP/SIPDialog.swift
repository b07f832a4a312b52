import CallVaultSIP
import NIOCore

/// One dialog CallVault accepted (RFC 3261 §12): the recording session it carries, and what in-dialog
/// requests need — the tags, the remote target and route set for a BYE of ours, the CSeqs, the 2xx
/// retransmitted until its ACK, the session timer. Used on the user agent's event loop only (hence `@unchecked Sendable`: captured by its tasks there).
final class SIPDialog: @unchecked Sendable {
    let callID: String
    let localTag: String
    let remoteTag: String
    /// The From of the SRC's INVITE (our To) and its To with our tag (our From).
    let remoteAddress: String
    let localAddress: String
    let remoteTarget: String
    let routeSet: [String]
    /// Where requests and responses of this dialog go: the INVITE's source.
    var peer: SIPPeer
    let call: SIPRECCall
    var remoteCSeq: UInt32
    var localCSeq: UInt32 = 1
    /// The SDP version of our last answer (`o=` line), and the session id.
    var answerVersion: UInt64 = 1
    let sessionID: UInt64
    /// The newest offer: a re-INVITE or UPDATE answer starts from it.
    var offer: SDPSession
    /// The 2xx to the newest INVITE, retransmitted until its ACK (RFC 3261 §13.3.1.4).
    var pending2xx: (bytes: SIPMessageBytes, cseq: UInt32, interval: TimeAmount, since: NIODeadline)?
    var retransmission: Scheduled<Void>?
    /// The session timer's deadline task (RFC 4028), if one was negotiated.
    var sessionTimer: (interval: Int, task: Scheduled<Void>?)?
    var ended = false

    init(
        callID: String, localTag: String, remoteTag: String, remoteAddress: String, localAddress: String,
        remoteTarget: String, routeSet: [String], peer: SIPPeer, call: SIPRECCall, remoteCSeq: UInt32, offer: SDPSession,
        sessionID: UInt64
    ) {
        self.callID = callID
        self.localTag = localTag
        self.remoteTag = remoteTag
        self.remoteAddress = remoteAddress
        self.localAddress = localAddress
        self.remoteTarget = remoteTarget
        self.routeSet = routeSet
        self.peer = peer
        self.call = call
        self.remoteCSeq = remoteCSeq
        self.offer = offer
        self.sessionID = sessionID
    }

    var key: String { SIPDialog.key(callID: callID, remoteTag: remoteTag) }

    static func key(callID: String, remoteTag: String) -> String { callID + "\u{1}" + remoteTag }

    func cancelTimers() {
        retransmission?.cancel()
        retransmission = nil
        sessionTimer?.task?.cancel()
        sessionTimer = nil
    }
}

/// An INVITE CallVault has not answered finally yet: its tenant is being found and its recording set
/// up off the loop. A CANCEL (or the set-up failing) ends it with a final response instead.
final class SIPPendingInvite: @unchecked Sendable {
    let request: SIPMessage
    let peer: SIPPeer
    let transactionKey: String
    let toTag: String
    var call: SIPRECCall?
    var cancelled = false

    init(request: SIPMessage, peer: SIPPeer, transactionKey: String, toTag: String) {
        self.request = request
        self.peer = peer
        self.transactionKey = transactionKey
        self.toTag = toTag
    }
}
