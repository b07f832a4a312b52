public import NIOCore

/// One Asterisk AudioSocket connection's consumer: the call it belongs to is named by the first
/// message (a UUID registered earlier with `POST /v1/calls`).
///
/// Called on the connection's event loop only. Audio payloads are views into the receive buffer,
/// valid only during the call. Returning a ``MediaClose`` closes that connection: with AudioSocket's
/// hangup for a normal end (1000, 1001), else with an error message
/// (``AudioSocketErrorCode/applicationError``). AudioSocket has no close reason on the wire: the
/// reason goes to the log and the metrics.
public protocol AudioSocketSession: AnyObject {
    func receive(_ message: AudioSocketMessage) -> MediaClose?
    /// The connection ended (hangup, error, peer gone, server shutdown): seal what is open, once.
    func end(_ reason: MediaClose)
    /// Called periodically on the connection's event loop: the close to apply if a limit ran out, or nil.
    func tick() -> MediaClose?
    /// Gives the session a way to reach its connection later, from the connection's event loop: close
    /// it (a call refused once the catalog answered, off the loop) or pause and resume reading from it.
    func attach(_ control: MediaStreamControl)
    /// After ``end(_:)``: completes once the call's catalog work is done; nil when there is nothing to wait for.
    var stored: EventLoopFuture<Void>? { get }
}

extension AudioSocketSession {
    public func tick() -> MediaClose? { nil }
    public func attach(_ control: MediaStreamControl) {}
    public var stored: EventLoopFuture<Void>? { nil }
}

public typealias AudioSocketSessionFactory = @Sendable (any EventLoop) -> any AudioSocketSession
