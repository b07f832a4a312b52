/// An error from the recording writer, flush group, recovery or exporter: what failed, in words an
/// operator can act on. Messages name recording ids, paths and codes, never audio, keys or numbers.
public struct RecorderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, stable for programs to switch on.
    public enum Code: String, Sendable, Equatable {
        /// An argument is outside what the recorder accepts (native codec, zero rate, bad frame count).
        case invalidArgument
        /// The catalog refused or failed an operation.
        case catalogFailed
        /// The key store could not create or unwrap the recording's data key.
        case keyStoreFailed
        /// The data key was destroyed (expiry or erasure): the recording can never be read again.
        case shredded
        /// Creating, writing or syncing the sealed file failed.
        case ioFailed
        /// The data disk refused a segment's write (full: `ENOSPC`, or failing: `EIO`): that segment was
        /// lost, the file still ends at its last whole segment, and the writer takes the next segment
        /// (the recording goes on with a gap once the disk takes writes again).
        case storageFailed
        /// The sealed file refused to authenticate or is malformed (see the message for the reader's code).
        case sealedFileFailed
        /// The writer was finished or failed and takes no more segments.
        case writerClosed
        /// The recording's codec cannot be decoded to PCM here (Opus needs the Opus decoder).
        case unsupportedCodec
        /// The consent gate refused an event (nothing to revoke, disclosure required first, call ended).
        case consentRefused
        /// A consent event's evidence could not be stored, so it did not take effect (or, when it
        /// records less, took effect without its evidence, which is retried with the next event).
        case evidenceNotStored
        /// The recording is restricted (GDPR Art. 18): kept, but not decrypted without a
        /// ``RestrictionOverride``, which is audited.
        case restricted
        /// The audit entry of a decryption or an export could not be written, so it was not done
        /// (nothing was decrypted, or no file was left).
        case auditFailed
        /// The file to export to exists; CallVault never replaces it.
        case outputExists
        /// The recording was opened where no key-provider round trip may be made (an ingest event loop)
        /// and its tenant's day key was not ready in memory: nothing was recorded; the day key is fetched
        /// off the event loops, so a retry a moment later succeeds once the provider answers.
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
