public import Foundation

/// Where a tenant's webhook events go and the signing secrets they are signed with.
///
/// The secrets are kept only wrapped under the tenant's key (``KeyStore``'s `webhook` context), so the
/// catalog alone — or a backup of it — cannot forge a tenant's events. While a rotated-out secret is
/// still inside its overlap window, events carry a signature under each (Standard Webhooks allows
/// several space-separated `v1,` signatures), so receivers can switch secrets without losing events.
public struct WebhookEndpoint: Sendable, Equatable, CustomStringConvertible {
    public struct WrappedSecret: Sendable, Equatable {
        /// The wrap context's key id: a fresh random id per secret.
        public var id: String
        /// The secret, wrapped under the tenant key.
        public var wrapped: [UInt8]

        public init(id: String, wrapped: [UInt8]) {
            self.id = id
            self.wrapped = wrapped
        }
    }

    public var tenantId: String
    /// The receiver's URL (https, or http only with `allowPrivate` for a loopback or private receiver).
    public var url: String
    /// Whether the SSRF guard lets this endpoint resolve to private, loopback or link-local addresses.
    public var allowPrivate: Bool
    public var secret: WrappedSecret
    /// The secret rotated out, still signing beside the new one until `previousUntil`.
    public var previousSecret: WrappedSecret?
    public var previousUntil: Date?
    public var updatedAt: Date

    public init(
        tenantId: String,
        url: String,
        allowPrivate: Bool,
        secret: WrappedSecret,
        previousSecret: WrappedSecret? = nil,
        previousUntil: Date? = nil,
        updatedAt: Date
    ) {
        self.tenantId = tenantId
        self.url = url
        self.allowPrivate = allowPrivate
        self.secret = secret
        self.previousSecret = previousSecret
        self.previousUntil = previousUntil
        self.updatedAt = updatedAt
    }

    /// No secret bytes, wrapped or not.
    public var description: String {
        "WebhookEndpoint(tenant: \(tenantId), url: \(url), allowPrivate: \(allowPrivate), secret: \(secret.id))"
    }
}
