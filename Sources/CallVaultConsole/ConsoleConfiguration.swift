public import CallVaultIngest

/// How the console listens and how long what it grants lasts. Defaults suit an operator's working day.
public struct ConsoleConfiguration: Sendable {
    /// The address to listen on (`serve --console HOST:PORT`; port 0: a free port).
    public var host: String
    public var port: Int
    /// A session ends after this long without a request (the cookie itself has no expiry: it dies
    /// with the browser, or here, whichever is first).
    public var idleTimeout: Duration
    /// Wrong passwords for one account from one address before sign-in is refused for a while.
    public var failuresBeforeLockout: Int
    /// The first lockout; each further failure doubles it, up to ``maximumLockout``.
    public var lockout: Duration
    public var maximumLockout: Duration
    /// How long a granted playback stays open for the `<audio>` element after its last request (its
    /// tracks' index and data keys are in memory, the audio is decrypted as it is sent).
    public var playbackLifetime: Duration
    /// Calls per page of the calls list.
    public var pageSize: Int
    /// How long a caller looked up on the subject-requests page stays in the session's memory for its
    /// export or erasure (the number is kept nowhere else).
    public var subjectLifetime: Duration
    /// This process's live calls, exact to the frame (`serve` passes its ``LiveCallRegistry``'s
    /// ``LiveCallRegistry/snapshots()``): a read-only copy of values, filtered by the operator's tenants
    /// on the live page. Nil (a console without an ingest): the page shows the catalog's view only.
    public var liveCalls: (@Sendable () async -> [LiveCallSnapshot])?
    /// Which operators need a TOTP second factor to sign in (and to keep a session).
    public var requireTOTP: ConsoleTOTPRequirement

    public init(
        host: String = "127.0.0.1", port: Int = 8081, idleTimeout: Duration = .seconds(15 * 60),
        failuresBeforeLockout: Int = 5, lockout: Duration = .seconds(30), maximumLockout: Duration = .seconds(15 * 60),
        playbackLifetime: Duration = .seconds(5 * 60), pageSize: Int = 25,
        subjectLifetime: Duration = .seconds(10 * 60), liveCalls: (@Sendable () async -> [LiveCallSnapshot])? = nil,
        requireTOTP: ConsoleTOTPRequirement = .none
    ) {
        self.liveCalls = liveCalls
        self.requireTOTP = requireTOTP
        self.subjectLifetime = subjectLifetime
        self.host = host
        self.port = port
        self.idleTimeout = idleTimeout
        self.failuresBeforeLockout = failuresBeforeLockout
        self.lockout = lockout
        self.maximumLockout = maximumLockout
        self.playbackLifetime = playbackLifetime
        self.pageSize = pageSize
    }
}
