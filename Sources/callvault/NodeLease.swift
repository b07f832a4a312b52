import CallVaultModel
import CallVaultRecorder
import CallVaultStore
import Foundation
import Logging

/// This `callvault serve` node's lease on the catalog, under its own node id, and the recovery of the
/// nodes that are gone.
///
/// Several servers may record into one catalog (behind a load balancer, or restarted side by side): each
/// takes a lease named by a fresh node id (``ServeNodes/newNodeID()``), renews it while it runs and
/// releases it on shutdown, and every recording it opens carries that id. At start and then every
/// ``recoveryInterval`` a node recovers the open recordings of nodes that are gone (lease run out, or a
/// process of this host that no longer exists), never those of a live node. A node that finds its own
/// lease run out (a pause, a cut from the database longer than ``duration``) takes it again and says so:
/// others may have closed its open recordings as interrupted meanwhile.
final class NodeLease: Sendable {
    static let duration: Duration = .seconds(30)
    static let recoveryInterval: Duration = .seconds(10)

    let nodes: ServeNodes
    let node: String
    private let holder: String
    private let renewer: Task<Void, Never>

    private init(nodes: ServeNodes, node: String, holder: String, logger: Logger) {
        self.nodes = nodes
        self.node = node
        self.holder = holder
        let leases = nodes.leases
        renewer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.duration / 3)
                if Task.isCancelled { return }
                do {
                    if try await !leases.renew(name: node, holder: holder, for: Self.duration) {
                        logger.error(
                            "this node's lease had run out: other nodes may have closed its open recordings as interrupted; taking it again",
                            metadata: ["node": "\(node)"])
                        _ = try await leases.acquire(name: node, holder: holder, for: Self.duration)
                    }
                } catch {
                    logger.warning("cannot renew this node's lease; retrying", metadata: ["reason": "\(error)"])
                }
            }
        }
    }

    /// Takes a lease under a fresh node id.
    static func acquire(_ catalog: any CatalogStore, logger: Logger) async throws -> NodeLease {
        let leases = serviceLeases(for: catalog)
        let node = ServeNodes.newNodeID()
        let holder = ServiceLeaseHolder.unique("serve")
        do {
            guard try await leases.acquire(name: node, holder: holder, for: duration) else {
                throw CLIError.failure("cannot take the lease of node \(node): it is held already", hint: "start again")
            }
        } catch let error as ServiceLeaseError {
            throw CLIError.failure("cannot take this node's lease: \(error.message)", hint: "check the catalog")
        }
        return NodeLease(nodes: ServeNodes(leases: leases, this: node), node: node, holder: holder, logger: logger)
    }

    /// Recovers, every ``recoveryInterval`` until cancelled, the open recordings of nodes that are gone.
    func recoverPeriodically(_ recovery: RecordingRecovery, logger: Logger) -> Task<Void, Never> {
        let nodes = self.nodes
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.recoveryInterval)
                if Task.isCancelled { return }
                do {
                    let recovered = try await recovery.recoverAbandoned(sparing: nodes)
                    if !recovered.isEmpty {
                        logger.notice("recovered the open recordings of a node that is gone", metadata: ["count": "\(recovered.count)"])
                    }
                } catch {
                    logger.warning("cannot recover the recordings of nodes that are gone; retrying", metadata: ["reason": "\(error)"])
                }
            }
        }
    }

    /// Stops renewing and gives the lease up: this node's recordings are closed, none is left to recover.
    func release() async {
        renewer.cancel()
        try? await nodes.leases.release(name: node, holder: holder)
    }
}
