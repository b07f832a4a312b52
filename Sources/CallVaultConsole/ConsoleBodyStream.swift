public import CallVaultArchive

/// A response body produced a chunk at a time while it is sent (streamed playback and WAV downloads),
/// so a long body is never whole in memory. The server asks for the next chunk only once the last one
/// was written to the socket (backpressure). `length` is exact and sent as `Content-Length`; a body
/// that fails part way is cut (the connection closed), so the client sees it short, never a made-up end.
public struct ConsoleBodyStream: Sendable {
    /// The bytes the body has, all chunks together.
    public let length: Int
    /// The next chunk, or nil after the last; throws when the body cannot be finished (a segment that
    /// does not verify). Called one at a time.
    public let next: @Sendable () async throws(RecorderError) -> [UInt8]?
    /// The most bytes the producer held at once so far (decoded audio and the chunk being built): what
    /// a stream costs in memory, whatever its length (tests check it stays bounded).
    public let peakBufferedBytes: @Sendable () -> Int

    public init(
        length: Int,
        next: @escaping @Sendable () async throws(RecorderError) -> [UInt8]?,
        peakBufferedBytes: @escaping @Sendable () -> Int = { 0 }
    ) {
        self.length = length
        self.next = next
        self.peakBufferedBytes = peakBufferedBytes
    }

    /// Every remaining chunk, concatenated (tests, and callers that need the whole body).
    public func collect() async throws(RecorderError) -> [UInt8] {
        var out: [UInt8] = []
        while let chunk = try await next() { out += chunk }
        return out
    }
}
