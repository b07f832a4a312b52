public import CallVaultModel
import Metrics

/// What the shared store reports to the process's metrics system (Prometheus on `serve`'s `/metrics`,
/// the sweeper's text file): how long database operations take and how they end, how many are in
/// flight against the pool's size, how deep the job queue is per state, and how many leases ran out.
///
/// Labels are fixed words (backend, outcome, state), never ids: an id per label value would grow the
/// series without bound. Each metric is looked up when used (the factory keeps one per label), so one
/// used before the metrics system was bootstrapped does not stay a no-op.
public enum StoreMetrics {
    /// `callvault_db_operation_seconds{backend, outcome}`: one PostgreSQL operation (a claim, an append,
    /// a catalog transaction), waiting for a pooled connection included; outcome `ok`, `error` or
    /// `timeout` (its deadline passed: the database is down or overloaded).
    static func recordOperation(backend: String, outcome: String, nanoseconds: Int64) {
        Timer(label: "callvault_db_operation_seconds", dimensions: [("backend", backend), ("outcome", outcome)])
            .recordNanoseconds(nanoseconds)
    }

    /// `callvault_db_operations_in_flight{backend}`: operations started and not finished; near
    /// `callvault_db_pool_connections{backend}` the pool is the bottleneck.
    static var inFlight: Meter { Meter(label: "callvault_db_operations_in_flight", dimensions: [("backend", "postgres")]) }

    /// `callvault_db_pool_connections{backend}`: the pool's maximum number of connections.
    static func recordPoolSize(_ connections: Int) {
        Gauge(label: "callvault_db_pool_connections", dimensions: [("backend", "postgres")]).record(connections)
    }

    /// `callvault_job_lease_expiries_total`: jobs claimed again because their worker's lease ran out
    /// (it died, stalled or lost the database): a steady rise means workers are dying or leases are
    /// too short for the engine.
    static var leaseExpiries: Counter { Counter(label: "callvault_job_lease_expiries_total") }

    /// Sets `callvault_jobs{state}` from a queue's counts (every state, zero when absent), for a
    /// process that looks at the queue periodically (the sweeper, a worker pool).
    public static func recordQueueDepth(_ counts: [JobState: Int]) {
        for state in JobState.allCases {
            Gauge(label: "callvault_jobs", dimensions: [("state", state.rawValue)]).record(counts[state] ?? 0)
        }
    }
}
