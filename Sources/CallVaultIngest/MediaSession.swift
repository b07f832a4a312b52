public import CallVaultModel
public import NIOCore

/// Which media endpoint a stream came in on.
public enum MediaEndpoint: String, Sendable {
    /// `/v1/twilio`: Twilio Media Streams JSON text frames.
    case twilio = "/v1/twilio"
    /// `/v1/stream`: a JSON text header, then binary L16 or μ-law frames.
    case binary = "/v1/stream"
}

/// Why the server closes a media stream: a WebSocket close code and a reason for the peer (and the log).
public struct MediaClose: Error, Sendable, Equatable {
    /// RFC 6455 close code: 1000 normal, 1003 unacceptable data, 1007 invalid payload, 1008 policy,
    /// 1009 too big, 1011 server error, 1001 going away (shutdown).
    public var code: UInt16
    public var reason: String

    public init(code: UInt16, reason: String) {
        self.code = code
        self.reason = reason
    }

    public static func policy(_ reason: String) -> MediaClose { MediaClose(code: 1008, reason: reason) }
    public static func invalid(_ reason: String) -> MediaClose { MediaClose(code: 1007, reason: reason) }
    public static func serverError(_ reason: String) -> MediaClose { MediaClose(code: 1011, reason: reason) }
    public static let goingAway = MediaClose(code: 1001, reason: "server shutting down")
    public static let normal = MediaClose(code: 1000, reason: "done")
}

/// What a session may do to its stream later, from the stream's event loop.
///
/// `pauseReading(true)` stops reading from the peer (TCP holds what it sends, and in time slows it
/// down) and `pauseReading(false)` resumes: the session holds frames while the catalog answers, and a
/// sender faster than real time (a replay, a test, a burst after a network stall) must be slowed, not
/// refused, when the catalog is slower than the audio for a while.
public struct MediaStreamControl {
    public var close: (MediaClose) -> Void
    public var pauseReading: (Bool) -> Void

    public init(close: @escaping (MediaClose) -> Void, pauseReading: @escaping (Bool) -> Void) {
        self.close = close
        self.pauseReading = pauseReading
    }
}

/// One media stream's consumer: parses its messages and drives the call's recorder.
///
/// Called on the stream's event loop only, one message at a time. The byte views are valid only
/// during the call (they point into the receive buffer): copy what must outlive it. Returning a
/// ``MediaClose`` closes the stream with that code and reason; other streams are not affected.
public protocol MediaSession: AnyObject {
    func receiveText(_ bytes: UnsafeRawBufferPointer) -> MediaClose?
    func receiveBinary(_ bytes: UnsafeRawBufferPointer) -> MediaClose?
    /// The stream ended (peer closed, error, or server shutdown): seal what is open, exactly once.
    func end(_ reason: MediaClose)
    /// Called periodically on the stream's event loop: the close to apply if a limit ran out (silence,
    /// call length), or nil.
    func tick() -> MediaClose?
    /// Gives the session a way to reach its stream later, from the stream's event loop: close it (a call
    /// refused once the catalog answered, off the loop) or pause and resume reading from it.
    func attach(_ control: MediaStreamControl)
    /// After ``end(_:)``: completes once the call's catalog work is done (recordings complete, the call
    /// closed), so the close the peer gets means its call is stored; nil when there is nothing to wait for.
    var stored: EventLoopFuture<Void>? { get }
}

extension MediaSession {
    public func tick() -> MediaClose? { nil }
    public func attach(_ control: MediaStreamControl) {}
    public var stored: EventLoopFuture<Void>? { nil }
}

/// Makes the session for a newly upgraded stream. `tenant` is set when the upgrade carried a valid
/// token (`Authorization: Bearer` or `?token=`); Twilio streams may instead carry it in `start`. The
/// connection's security is checked against the tenant's pinned client certificates once it is known.
public typealias MediaSessionFactory =
    @Sendable (MediaEndpoint, Tenant?, ConnectionSecurity, any EventLoop) -> any MediaSession
