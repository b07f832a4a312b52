/// A media direction attribute (RFC 4566 §6; RFC 3264 §5.1). A SIPREC SRC offers `sendonly`, pauses
/// with `inactive` and the SRS answers `recvonly`; Cisco CUBE may open with `inactive`.
public enum SDPDirection: String, Sendable, Equatable, CaseIterable {
    case sendrecv, sendonly, recvonly, inactive
}
