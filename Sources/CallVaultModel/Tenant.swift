public import Foundation

/// A customer of CallVault as the rest of the program sees it: its id, name and policy.
///
/// It deliberately carries no token hash and no phone-hash key, so it can be printed, logged and
/// encoded to JSON without leaking anything secret.
public struct Tenant: Sendable, Codable, Equatable, Identifiable {
    public let id: String
    public var name: String
    public var policy: TenantPolicy
    public let createdAt: Date
    public var updatedAt: Date

    public init(id: String, name: String, policy: TenantPolicy, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.name = name
        self.policy = policy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
