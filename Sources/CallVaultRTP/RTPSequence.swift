/// Extended (32-bit and beyond) sequence numbers for one source, RFC 3550 appendix A.1.
///
/// The 16-bit RTP sequence number wraps every 65,536 packets (22 minutes at 50 packets a second),
/// and senders restart or jump it. This is the RFC's `update_seq`: a packet within `maxDropout`
/// ahead advances (counting a wrap), one within `maxMisorder` behind is a late or duplicate packet
/// of the same run, and anything else is a jump: dropped once, and if the next packet follows it,
/// the sender restarted its numbering and counting resyncs there. So a 2^15 or 2^31 jump costs at
/// most one packet, and a single stray packet cannot move the stream.
public struct RTPSequence: Sendable {
    /// What ``update(_:)`` made of a sequence number.
    public enum Outcome: Sendable, Equatable {
        /// A new highest packet, with its extended number.
        case advanced(extended: Int64)
        /// Behind the highest (reordered or a duplicate), with its extended number.
        case behind(extended: Int64)
        /// Still proving the source (`minSequential` in-order packets needed); dropped.
        case probation
        /// A jump out of range; dropped. If the next packet follows it, counting restarts there.
        case jumped
    }

    public static let maxDropout: UInt16 = 3000
    public static let maxMisorder: UInt16 = 100

    /// Highest sequence number seen.
    public private(set) var maxSeq: UInt16 = 0
    /// Wraps counted, times 65,536.
    public private(set) var cycles: Int64 = 0
    /// The sequence number that, if it comes next, confirms a restart after a jump.
    var badSeq: Int = 65_537
    var probation: Int
    var started = false
    let minSequential: Int

    /// - Parameter minSequential: in-order packets a new source must send before its packets count
    ///   (the RFC's `MIN_SEQUENTIAL`, 2 there). A recorder whose signalling already vouched for the
    ///   source uses 1, so the first packet is not lost.
    public init(minSequential: Int = 2) {
        self.minSequential = max(1, minSequential)
        self.probation = self.minSequential
    }

    /// Highest extended sequence number so far.
    public var extendedMax: Int64 { cycles + Int64(maxSeq) }

    /// Accounts for one packet's sequence number.
    public mutating func update(_ seq: UInt16) -> Outcome {
        guard started else {
            started = true
            maxSeq = seq &- 1
            probation = minSequential
            return update(seq)
        }
        let delta = seq &- maxSeq
        if probation > 0 {
            if seq == maxSeq &+ 1 {
                probation -= 1
                maxSeq = seq
                if probation == 0 {
                    restart(at: seq, newCycle: false)
                    return .advanced(extended: extendedMax)
                }
            } else {
                probation = minSequential - 1
                maxSeq = seq
            }
            return .probation
        }
        if delta != 0 && delta < Self.maxDropout {
            if seq < maxSeq { cycles += 65_536 }
            maxSeq = seq
            return .advanced(extended: extendedMax)
        }
        if delta != 0 && delta <= UInt16.max - Self.maxMisorder + 1 {
            if Int(seq) == badSeq {
                restart(at: seq, newCycle: true)
                return .advanced(extended: extendedMax)
            }
            badSeq = Int(seq &+ 1)
            return .jumped
        }
        // Duplicate (delta 0) or up to maxMisorder behind: same run, maybe the previous cycle.
        var extended = cycles + Int64(seq)
        if seq > maxSeq { extended -= 65_536 }
        return .behind(extended: extended)
    }

    /// The RFC's `init_seq`. After a jump (`newCycle`) the count moves on by a whole cycle, so
    /// extended numbers stay monotonic and never collide with the run before the jump.
    mutating func restart(at seq: UInt16, newCycle: Bool) {
        if newCycle { cycles += 65_536 }
        maxSeq = seq
        badSeq = 65_537
        probation = 0
    }
}
