/// What an operator of the web console may do within one tenant. Each role includes the one before.
public enum OperatorRole: String, Sendable, Codable, Equatable, Comparable, CaseIterable {
    /// Call metadata, consent evidence and transcripts.
    case viewer
    /// A viewer who may also play and export recordings (each playback audited).
    case agent
    /// An agent who may also act on subject requests, holds, restrictions and the tenant's policy.
    case admin

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .agent: 1
        case .admin: 2
        }
    }

    public static func < (lhs: OperatorRole, rhs: OperatorRole) -> Bool { lhs.rank < rhs.rank }
}
