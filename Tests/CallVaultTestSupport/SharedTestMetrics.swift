import Metrics
public import MetricsTestKit

/// The test process's metrics system. swift-metrics allows one bootstrap per process, and every test
/// target runs in the same process, so each suite that reads metrics goes through this one.
public let sharedTestMetrics: TestMetrics = {
    let metrics = TestMetrics()
    MetricsSystem.bootstrap(metrics)
    return metrics
}()
