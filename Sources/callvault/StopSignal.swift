import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// SIGINT/SIGTERM for a service loop: the first signal asks it to stop after the current step,
/// a second one exits at once (the sweeper stops between sweeps).
final class StopSignal {
    /// The count of signals received, shared with the signal handlers.
    private final class Count: Sendable {
        let value = Atomic<Int>(0)
    }

    private let count = Count()
    private var sources: [any DispatchSourceSignal] = []

    init() {
        let count = self.count
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                if count.value.add(1, ordering: .relaxed).newValue > 1 { exit(130) }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Whether a stop was asked for.
    var isRaised: Bool { count.value.load(ordering: .relaxed) > 0 }

    /// Sleeps up to `duration`, waking early (checking every 100 ms) when a stop is asked for.
    func wait(for duration: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + duration
        while !isRaised && clock.now < deadline {
            try await Task.sleep(for: min(.milliseconds(100), deadline - clock.now))
        }
    }
}
