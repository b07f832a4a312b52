import NIOCore

/// Holds back a channel's reads while its session asks (it holds many frames while the catalog
/// answers), so TCP slows the sender instead of the session refusing the call. The handler's outbound
/// `read` goes through it: NIO's way of backpressure (as its `BackPressureHandler` does for writability).
struct ReadGate {
    private(set) var paused = false
    private var readPending = false

    /// Forwards a read unless paused; a read asked for while paused is kept until ``resume(_:)``.
    mutating func read(_ context: ChannelHandlerContext) {
        if paused { readPending = true } else { context.read() }
    }

    mutating func pause() { paused = true }

    /// Reads again, issuing the read held back meanwhile.
    mutating func resume(_ context: ChannelHandlerContext) {
        paused = false
        guard readPending else { return }
        readPending = false
        context.read()
    }
}
