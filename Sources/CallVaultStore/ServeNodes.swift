/// The `callvault serve` nodes on one catalog, as their leases tell: which are alive, so that a node
/// recovers (closes as interrupted) only the open recordings of nodes that are gone, never another live
/// node's.
///
/// A node's id is the name of its lease in ``ServiceLeases`` (``newNodeID()``), renewed while it runs;
/// each recording it opens carries that id (``CallVaultModel/RecordingRecord/node``). A node is alive
/// while its lease is held and its holder is not a process of this host known to be gone (killed
/// there, it is taken for dead at once instead of after the lease runs out).
public struct ServeNodes: Sendable {
    public let leases: any ServiceLeases
    /// The asking node (alive by definition), or nil for a tool.
    public let this: String?

    public init(leases: any ServiceLeases, this: String?) {
        self.leases = leases
        self.this = this
    }

    /// A fresh node id: `serve.` and 12 random base-36 digits (a lease name, at most 100 characters).
    public static func newNodeID() -> String {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        return "serve." + String((0..<12).map { _ in alphabet.randomElement()! })
    }

    /// Whether `node` is alive: this node, or one whose lease is held by a process not known to be gone.
    public func isAlive(_ node: String) async throws(ServiceLeaseError) -> Bool {
        if node == this { return true }
        guard let lease = try await leases.current(name: node) else { return false }
        return !ServiceLeaseHolder.isDeadProcessOnThisHost(lease.holder)
    }
}
