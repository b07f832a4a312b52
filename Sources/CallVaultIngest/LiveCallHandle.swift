import CallVaultModel
import NIOCore

/// A live call as the control API sees it: events hop onto the stream's event loop, are stored and
/// applied before its next frame, and the outcome comes back to the API.
final class LiveCallHandle: LiveCall {
    private let target: NIOLoopBound<any ConsentEventTarget>
    private let eventLoop: any EventLoop

    init(_ target: any ConsentEventTarget, eventLoop: any EventLoop) {
        self.target = NIOLoopBound(target, eventLoop: eventLoop)
        self.eventLoop = eventLoop
    }

    func post(_ kind: ConsentEventKind, method: ConsentMethod) -> EventLoopFuture<ConsentEventOutcome> {
        let target = self.target
        return eventLoop.flatSubmit { target.value.applyEvent(kind, method: method) }
    }

    func postSensitive(open: Bool) -> EventLoopFuture<ConsentEventOutcome> {
        let target = self.target
        return eventLoop.flatSubmit { target.value.applySensitive(open: open, source: .api) }
    }

    func recordingPosition() -> EventLoopFuture<Int64?> {
        let target = self.target
        return eventLoop.submit { target.value.recordingPosition }
    }

    func snapshot() -> EventLoopFuture<LiveCallSnapshot?> {
        let target = self.target
        return eventLoop.submit { target.value.snapshot }
    }
}

/// What takes consent events from the control API: a stream's ``CallLifecycle``.
protocol ConsentEventTarget: AnyObject {
    /// Completes once the event's evidence is stored (or known not to be), off the loop.
    func applyEvent(_ kind: ConsentEventKind, method: ConsentMethod) -> EventLoopFuture<ConsentEventOutcome>
    /// Opens or closes the call's sensitive window; completes once it is stored (or known not to be).
    func applySensitive(open: Bool, source: SensitiveWindow.Source) -> EventLoopFuture<ConsentEventOutcome>
    /// The timeline position now, or nil when nothing is being recorded.
    var recordingPosition: Int64? { get }
    /// What the stream is doing now (gate, frame counters), or nil before it is set up.
    var snapshot: LiveCallSnapshot? { get }
}
