/// The codec a tenant's recordings are stored in.
///
/// `native` keeps the codec the call arrived in, so the hot path never transcodes; a recording row
/// always names the concrete codec it was written in, never `native`.
public enum StorageCodec: String, Sendable, Codable, CaseIterable {
    case native
    case opus
    case pcm16
    case g711u
    case g711a
}
