import CallVaultModel
import CallVaultStore
import Foundation
import Logging

/// One `callvault serve` per catalog, until nodes own the recordings they hold open (issue 14).
///
/// At start a server recovers every recording the catalog shows as still being recorded, which is
/// right after its own crash and wrong beside another live server on the same catalog (it would close
/// that server's calls as interrupted). So a server takes the `serve` lease in the catalog's database
/// before recovering, renews it while it runs and releases it on shutdown; a second server is refused
/// with the first one's name. A holder that was killed on this host is taken over at once; one on another
/// host after the lease runs out.
final class ServeLease: Sendable {
    static let name = "serve"
    static let duration: Duration = .seconds(30)

    private let leases: any ServiceLeases
    let holder: String
    private let renewer: Task<Void, Never>

    private init(leases: any ServiceLeases, holder: String, logger: Logger) {
        self.leases = leases
        self.holder = holder
        renewer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.duration / 3)
                if Task.isCancelled { return }
                do {
                    if try await !leases.renew(name: Self.name, holder: holder, for: Self.duration) {
                        logger.error(
                            "lost the serve lease: another server may start on this catalog and close this one's open recordings; stop one of them"
                        )
                    }
                } catch {
                    logger.warning("cannot renew the serve lease; retrying", metadata: ["reason": "\(error)"])
                }
            }
        }
    }

    /// Takes the lease for this process, or throws a `CLIError` naming the server that holds it.
    static func acquire(_ catalog: any CatalogStore, logger: Logger) async throws -> ServeLease {
        let leases = serviceLeases(for: catalog)
        let holder = ServiceLeaseHolder.unique("serve")
        do {
            var held = try await leases.acquire(name: name, holder: holder, for: duration)
            if !held, let current = try await leases.current(name: name),
                ServiceLeaseHolder.isDeadProcessOnThisHost(current.holder)
            {
                logger.notice("taking over the serve lease of a server that is gone", metadata: ["holder": "\(current.holder)"])
                try await leases.release(name: name, holder: current.holder)
                held = try await leases.acquire(name: name, holder: holder, for: duration)
            }
            guard held else {
                let current = try await leases.current(name: name)
                throw CLIError.failure(
                    "another callvault serve (\(current?.holder ?? "unknown")) records into the catalog at \(catalog.location)",
                    hint: "stop it first, or wait for its lease to run out: two servers on one catalog would each "
                        + "close the other's open recordings at start (node ownership is not built yet)")
            }
        } catch let error as ServiceLeaseError {
            throw CLIError.failure("cannot take the serve lease: \(error.message)", hint: "check the catalog")
        }
        return ServeLease(leases: leases, holder: holder, logger: logger)
    }

    /// Stops renewing and gives the lease up, so the next server starts at once.
    func release() async {
        renewer.cancel()
        try? await leases.release(name: Self.name, holder: holder)
    }
}
