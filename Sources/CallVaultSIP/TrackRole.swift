/// Whose voice a recorded track carries. `caller` is the customer (the side consent and retention
/// rules are about), `bot` the tenant's side (agent, IVR or bot); `unknown` when the metadata
/// contradicts itself, so speakers are never silently swapped.
public enum TrackRole: String, Sendable, Equatable {
    case caller, bot, unknown
}
