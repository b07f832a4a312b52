/// How the samples in an incoming audio chunk are encoded on the wire.
///
/// Twilio sends μ-law; the binary WebSocket sends big-endian L16 (RFC 3551 network order, as
/// jambonz and mod_audio_fork do) or μ-law; Asterisk AudioSocket sends little-endian slin.
public enum IngestAudioEncoding: Sendable, Equatable, CaseIterable {
    /// G.711 μ-law, one byte a sample.
    case muLaw
    /// Signed 16-bit little-endian PCM (Asterisk slin).
    case l16LittleEndian
    /// Signed 16-bit big-endian PCM (RFC 3551 L16).
    case l16BigEndian

    /// Bytes on the wire per sample.
    @inlinable
    public var bytesPerSample: Int {
        switch self {
        case .muLaw: return 1
        case .l16LittleEndian, .l16BigEndian: return 2
        }
    }
}
