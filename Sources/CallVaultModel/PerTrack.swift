/// One value per track of a call, in two stored slots.
///
/// Read and written for every frame on the media path (a recorder's open tracks, a stream's frame
/// counters), so a branch on the track rather than a hashed key; `@inlinable` so other modules get it
/// specialized.
public struct PerTrack<Value> {
    public var caller: Value
    public var bot: Value

    @inlinable
    public init(caller: Value, bot: Value) {
        self.caller = caller
        self.bot = bot
    }

    @inlinable
    public subscript(track: RecordingTrack) -> Value {
        get { track == .caller ? caller : bot }
        set { if track == .caller { caller = newValue } else { bot = newValue } }
    }
}

extension PerTrack: Sendable where Value: Sendable {}
