import Synchronization

/// The RTP ports of `--rtp-ports LOW-HIGH`, handed out in even/odd pairs (RTP on the even port, RTCP on
/// the next, RFC 3550 §11), several streams of one session side by side when possible (an SRC's two
/// labelled streams on adjacent pairs, which also lets one capture replay both). Ports go back to the
/// pool when the session ends; an exhausted pool answers the INVITE 503 so the SBC fails over.
final class RTPPortPool: Sendable {
    let range: ClosedRange<Int>
    /// `used[i]`: the pair starting at `first + 2 * i` is taken.
    private let used: Mutex<[Bool]>
    private let first: Int

    init(range: ClosedRange<Int>) {
        first = range.lowerBound + (range.lowerBound % 2)
        self.range = range
        let pairs = max(0, (range.upperBound - first + 1) / 2)
        used = Mutex([Bool](repeating: false, count: pairs))
    }

    var capacity: Int { used.withLock { $0.count } }
    var available: Int { used.withLock { $0.lazy.filter { !$0 }.count } }

    /// `count` RTP ports (even), adjacent pairs if a run that long is free, else any free pairs; nil when
    /// fewer than `count` pairs are free.
    func allocate(_ count: Int) -> [Int]? {
        guard count > 0 else { return [] }
        return used.withLock { used in
            var run = 0
            for i in used.indices {
                run = used[i] ? 0 : run + 1
                if run == count {
                    let start = i - count + 1
                    for j in start...i { used[j] = true }
                    return (start...i).map { first + 2 * $0 }
                }
            }
            let free = used.indices.filter { !used[$0] }
            guard free.count >= count else { return nil }
            let taken = free.prefix(count)
            for j in taken { used[j] = true }
            return taken.map { first + 2 * $0 }
        }
    }

    func release(_ ports: [Int]) {
        used.withLock { used in
            for port in ports {
                let i = (port - first) / 2
                if used.indices.contains(i) { used[i] = false }
            }
        }
    }
}
