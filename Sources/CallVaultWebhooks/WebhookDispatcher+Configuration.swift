public import CallVaultModel

extension WebhookDispatcher {
    /// How the dispatcher polls, leases and sends.
    public struct Configuration: Sendable {
        /// This node's name, the lease owner of the rows it claims (serve's node id).
        public var node: String
        /// The wait between passes when nothing was due.
        public var pollInterval: Duration = .seconds(1)
        /// Rows claimed (and sent at once) per pass.
        public var batchSize = 16
        /// How long a claimed row is this node's; past it, another node may send it again (at least once).
        public var lease: Duration = .seconds(60)
        /// Connect and whole-request timeout of one delivery.
        public var requestTimeout: Duration = .seconds(10)
        /// Backoff and give-up.
        public var retry = WebhookRetryPolicy()
        /// A PEM file of CA certificates trusted besides the system's, for receivers on a private network
        /// with their own CA; nil: the system's trust store only. Certificates are always verified.
        public var additionalTrustRootsFile: String?

        public init(node: String) {
            self.node = node
        }
    }
}
