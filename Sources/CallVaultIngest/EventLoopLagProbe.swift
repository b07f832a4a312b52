public import Metrics
public import NIOCore
public import NIOPosix
public import ServiceLifecycle
import Synchronization

/// Measures how busy the event loops are: a task on each loop, due every `interval`, records how
/// late it ran. A frame that arrives on a loop busy with other streams waits about that long before
/// it is read, so this lag plus ``IngestMetrics/sealLatency`` bounds the time from a frame's arrival
/// to its seal (the load test's figure). Runs while the server runs.
public struct EventLoopLagProbe: Service {
    let group: any EventLoopGroup
    let interval: TimeAmount
    let timer: Timer

    public init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, interval: TimeAmount = .milliseconds(20), timer: Timer) {
        self.group = group
        self.interval = interval
        self.timer = timer
    }

    public func run() async throws {
        let probes = group.makeIterator().map { LoopProbe(loop: $0, interval: interval, timer: timer) }
        for probe in probes { probe.arm(due: .now() + interval) }
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled { try? await Task.sleep(for: .milliseconds(100)) }
        } onGracefulShutdown: {}
        for probe in probes { probe.stopped.store(true, ordering: .relaxed) }
    }
}

/// One loop's probe: reschedules itself from each run until stopped.
private final class LoopProbe: Sendable {
    let loop: any EventLoop
    let interval: TimeAmount
    let timer: Timer
    let stopped = Atomic<Bool>(false)

    init(loop: any EventLoop, interval: TimeAmount, timer: Timer) {
        self.loop = loop
        self.interval = interval
        self.timer = timer
    }

    func arm(due: NIODeadline) {
        loop.scheduleTask(deadline: due) { [self] in
            guard !stopped.load(ordering: .relaxed) else { return }
            let now = NIODeadline.now()
            timer.recordNanoseconds(max(0, (now - due).nanoseconds))
            arm(due: now + interval)
        }
    }
}
