/// Which side of a Twilio call a media message carries.
///
/// `inbound` is what the caller says (our "caller" track), `outbound` what Twilio plays to them
/// (our "bot" track). With both tracks, their messages interleave on one socket: the server
/// demultiplexes by this and places audio by `media.timestamp`, never by arrival order.
public enum TwilioTrack: String, Sendable, CaseIterable, Codable {
    case inbound, outbound
}
