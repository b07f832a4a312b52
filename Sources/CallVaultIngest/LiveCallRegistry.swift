public import CallVaultStore
import Synchronization

/// A call that is streaming now: consent events for it go to its gate, frame-exact, instead of
/// straight to the catalog.
public protocol LiveCall: AnyObject, Sendable {
    /// Hands a consent event to the call's own event loop; the call applies it from its next frame
    /// and records it (catalog and audit log) once its gate accepted it.
    func post(_ kind: ConsentEventKind, method: ConsentMethod)
}

/// The calls streaming now, by catalog call id. Thread-safe; touched once per call set-up and tear-down
/// and once per control event, never per frame.
public final class LiveCallRegistry: Sendable {
    private let calls = Mutex<[String: any LiveCall]>([:])

    public init() {}

    /// Registers a live call; false if one with this id is already streaming (a second stream for the
    /// same call and track is refused by the caller).
    public func insert(_ call: any LiveCall, id: String) -> Bool {
        calls.withLock { calls in
            if calls[id] != nil { return false }
            calls[id] = call
            return true
        }
    }

    public func remove(id: String) {
        _ = calls.withLock { $0.removeValue(forKey: id) }
    }

    public func call(id: String) -> (any LiveCall)? {
        calls.withLock { $0[id] }
    }

    public var count: Int { calls.withLock { $0.count } }
}
