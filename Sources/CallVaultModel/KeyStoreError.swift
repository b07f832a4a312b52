/// An error from the key store, the root key file or the data directory, in words a user can act on.
///
/// Messages name files, tenant ids, key ids and recording ids, never key bytes: a message may end up in
/// a log or on a terminal, and key material must reach neither.
public struct KeyStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, stable for programs to switch on.
    public enum Code: String, Sendable, Equatable {
        /// The root key file does not exist (run `callvault init`).
        case rootKeyMissing
        /// The root key file is readable by others, is a symlink, not a regular file, or owned by someone else.
        case rootKeyInsecure
        /// The root key file does not hold exactly 32 bytes.
        case rootKeyCorrupt
        /// The data directory does not exist (run `callvault init`).
        case directoryMissing
        /// The data directory is reachable by group or others, or is not a directory.
        case directoryInsecure
        /// A file-system call failed (the message names the path and the errno text).
        case ioFailed
        /// A tenant id, owner id or key id has characters that are not allowed.
        case invalidIdentifier
        /// A day is not a valid `yyyy-mm-dd` calendar day.
        case invalidDay
        /// `createTenant` was called for a tenant that already has a key.
        case tenantExists
        /// No key exists for this tenant.
        case unknownTenant
        /// No data key exists, or ever existed, for this owner (in this tenant).
        case unknownDataKey
        /// The data key was destroyed (expired or erased): the data it protected is gone for good.
        case dataKeyShredded
        /// The owner already has a data key; each recording or transcript gets exactly one.
        case dataKeyExists
        /// The day key for this (tenant, day, kind) was already destroyed; nothing new may expire on that day.
        case dayKeyDestroyed
        /// A wrapped key did not authenticate under its wrapping key and context (tampered or moved).
        case unwrapFailed
        /// The data key is under legal hold, so it cannot be erased until the hold is released.
        case onHold
        /// `releaseHold` was called for a data key that is not held.
        case notHeld
        /// The WAL checkpoint after shredding stayed blocked by another connection.
        case checkpointBlocked
        /// The database failed (the message carries its text, which never contains key bytes here).
        case databaseFailed
        /// A cryptographic primitive failed (random generation, wrapping).
        case cryptoFailed
        /// The key provider that wraps day keys (a PKCS#11 token, a Transit engine) failed or is
        /// unreachable; the message names the provider, the tenant and the day, and nothing was changed.
        case providerFailed
        /// A data key was asked for where no provider round trip may be made (an ingest event loop), and
        /// its day key is not unwrapped in memory yet: a new tenant or day, or a provider that has been
        /// failing. The message names the tenant, the day and the provider; the day-key preparer
        /// fetches it off the event loops, so a retry a moment later succeeds once the provider answers.
        case dayKeyNotReady
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
