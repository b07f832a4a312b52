public import CallVaultModel
public import NIOCore
import Synchronization

/// A call that is streaming now: consent events for it go to its gate, frame-exact, instead of
/// straight to the catalog.
public protocol LiveCall: AnyObject, Sendable {
    /// Hands a consent event to the call's own event loop, which stores its evidence (catalog and
    /// audit log) and then applies it from its next frame; the future says what became of it.
    func post(_ kind: ConsentEventKind, method: ConsentMethod) -> EventLoopFuture<ConsentEventOutcome>
    /// Opens or closes the call's sensitive window at the stream's timeline position, stored before the
    /// future completes.
    func postSensitive(open: Bool) -> EventLoopFuture<ConsentEventOutcome>
    /// Where the stream is on the call's timeline now, or nil when it is not recording (consent not
    /// given, paused, an evidence write failed, or ended): the bot's words are kept only while it is.
    func recordingPosition() -> EventLoopFuture<Int64?>
}

/// The streams live now, by catalog call id (a call may stream its two tracks on two connections).
/// Thread-safe; touched at stream set-up and tear-down and per control event, never per frame.
public final class LiveCallRegistry: Sendable {
    private let calls = Mutex<[String: [ObjectIdentifier: any LiveCall]]>([:])

    public init() {}

    public func insert(_ call: any LiveCall, id: String) {
        calls.withLock { $0[id, default: [:]][ObjectIdentifier(call)] = call }
    }

    public func remove(_ call: any LiveCall, id: String) {
        calls.withLock { calls in
            calls[id]?.removeValue(forKey: ObjectIdentifier(call))
            if calls[id]?.isEmpty == true { calls.removeValue(forKey: id) }
        }
    }

    /// The live streams of one call (empty when it is not streaming).
    public func streams(id: String) -> [any LiveCall] {
        calls.withLock { $0[id].map { Array($0.values) } ?? [] }
    }

    /// Calls streaming now.
    public var count: Int { calls.withLock { $0.count } }
}
