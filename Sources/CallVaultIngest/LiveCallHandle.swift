import CallVaultStore
import NIOCore

/// A live call as the control API sees it: events hop onto the session's event loop and are applied
/// before its next frame.
final class LiveCallHandle: LiveCall {
    private let session: NIOLoopBound<any ConsentEventTarget>
    private let eventLoop: any EventLoop

    init(_ session: any ConsentEventTarget, eventLoop: any EventLoop) {
        self.session = NIOLoopBound(session, eventLoop: eventLoop)
        self.eventLoop = eventLoop
    }

    func post(_ kind: ConsentEventKind, method: ConsentMethod) {
        let session = self.session
        eventLoop.execute { session.value.applyEvent(kind, method: method) }
    }
}

/// A session that takes consent events from the control API.
protocol ConsentEventTarget: AnyObject {
    func applyEvent(_ kind: ConsentEventKind, method: ConsentMethod)
}
