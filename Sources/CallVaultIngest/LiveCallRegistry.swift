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
    /// A read-only copy of what the stream is doing now (its gate and frame counters), read on its event
    /// loop between two frames; nil before the call is set up.
    func snapshot() -> EventLoopFuture<LiveCallSnapshot?>
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

    /// What every call streaming now is doing, exact to the frame: each stream is read on its own event
    /// loop (one hop per stream, never per frame), and a call's streams are merged into one snapshot.
    /// A stream that ends meanwhile is left out. Newest call first.
    public func snapshots() async -> [LiveCallSnapshot] {
        let live = calls.withLock { $0.mapValues { Array($0.values) } }
        var result: [LiveCallSnapshot] = []
        for streams in live.values {
            var merged: LiveCallSnapshot?
            for stream in streams {
                guard let read = try? await stream.snapshot().get() else { continue }
                if merged == nil { merged = read } else { merged?.streams += read.streams }
            }
            if var merged {
                merged.streams.sort { $0.connectedAt < $1.connectedAt }
                result.append(merged)
            }
        }
        return result.sorted { ($0.startedAt, $0.callID) > ($1.startedAt, $1.callID) }
    }
}
