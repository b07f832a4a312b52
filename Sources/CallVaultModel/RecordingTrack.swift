/// Which side of a call a recording holds: each track is its own sealed file.
public enum RecordingTrack: String, Sendable, Codable, CaseIterable {
    case caller
    case bot
}
