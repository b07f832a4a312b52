import ArgumentParser
import CallVaultArchive
import CallVaultConsole
import CallVaultIngest
import CallVaultModel
import CallVaultObjects
import CallVaultRecorder
import CallVaultStore
import CallVaultWebhooks
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle

/// `callvault serve`: the telephony ingest socket (Twilio Media Streams, binary WebSocket, Asterisk
/// AudioSocket) and the HTTP control API, until SIGINT/SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the ingest socket: live call audio in, sealed recordings out.",
        discussion: """
            Endpoints: ws://HOST:PORT/v1/twilio, ws://HOST:PORT/v1/stream, POST /v1/calls,
            POST /v1/calls/{callId}/events, GET /healthz, GET /metrics, GET /openapi.json (the control
            API's OpenAPI 3.1 document, docs/openapi.json); AudioSocket on --audiosocket.
            On start it recovers recordings a crash left open. On SIGINT/SIGTERM it stops accepting,
            seals the last segment of every open recording, marks them complete, queues their
            transcription and exits 0.

            Once every listener is bound it prints one line to stdout with the addresses it listens on,
            `listening http=HOST:PORT` (and ` audiosocket=HOST:PORT` with --audiosocket, ` sip=udp|tcp|tls:HOST:PORT`
            for each --sip, ` console=http://HOST:PORT` with --console: the operator web console, docs/console.md). Port 0
            (`--http 127.0.0.1:0`) lets the system choose a free port; that line says which.

            The catalog is where the data directory keeps it: DIR/catalog.sqlite, or the PostgreSQL
            database named by `init --database` (DIR/database.json) or CALLVAULT_DATABASE_URL. Nothing on
            an event loop waits for it: each call's catalog work runs in order off the loops while its
            first frames are held.
            """
    )

    @OptionGroup var dataOptions: DataOptions

    @Option(help: ArgumentHelp("HTTP and WebSocket listener (port 0: a free port, printed).", valueName: "HOST:PORT"))
    var http = "127.0.0.1:8080"

    @Option(
        help: ArgumentHelp(
            "Asterisk AudioSocket listener (off unless given; port 0: a free port, printed).", valueName: "HOST:PORT"))
    var audiosocket: String?

    @Option(
        help: ArgumentHelp(
            "The operator web console's own listener (off unless given; HTTPS with --tls-cert; port 0: a free port, printed). Operators: `callvault operator add`.",
            valueName: "HOST:PORT"))
    var console: String?

    @Option(help: "Minutes without a request after which a console session ends.")
    var consoleIdleMinutes = 15

    @Option(
        help: ArgumentHelp(
            "Which operators need a TOTP second factor to use the console: none, admins (global and tenant administrators) or all. One without it is refused at sign-in and told how to get one; its open sessions end.",
            valueName: "none|admins|all"))
    var consoleRequireTotp = "none"

    @Option(
        help: ArgumentHelp(
            "PEM certificate (chain) for HTTPS and WSS on --http, the console and --sip tls: (with --tls-key); reloaded on SIGHUP.",
            valueName: "FILE"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("PEM private key of --tls-cert (unencrypted, 0600).", valueName: "FILE"))
    var tlsKey: String?

    @Flag(
        help:
            "With --tls-cert: refuse plain HTTP/WebSocket connections (they get 400 saying to use https:// or wss://) and plain --sip udp:/tcp: listeners (serve does not start).")
    var requireTls = false

    @Option(
        help: ArgumentHelp(
            "SIP listener for SIPREC and plain SIP calls (repeat for several; off unless given; port 0: a free port, printed); tls: is SIP over TLS with --tls-cert/--tls-key.",
            valueName: "udp|tcp|tls:HOST:PORT"))
    var sip: [String] = []

    @Option(help: ArgumentHelp("RTP ports for SIP sessions, handed out in even/odd pairs.", valueName: "LOW-HIGH"))
    var rtpPorts = "20000-29999"

    @Option(
        help: ArgumentHelp(
            "The address SDP answers and Contact headers carry (default: the first --sip host; required when that is a wildcard).",
            valueName: "HOST"))
    var sipAddress: String?

    @Option(help: "SIP dialogs at once (more INVITEs get 503 with Retry-After).")
    var maxSipDialogs = 2_000

    @Option(help: "SIP timer T1 in milliseconds (RFC 3261: retransmissions start at T1; a 2xx not ACKed in 64*T1 ends the session).")
    var sipT1Ms = 500

    @Option(help: "Seconds of audio per sealed segment (bounds what a crash can lose).")
    var segmentSeconds = 1

    @Option(help: "Milliseconds between group flushes (every open recording made durable).")
    var flushIntervalMs = 1000

    @Option(
        help: ArgumentHelp(
            "How a flush makes recordings durable: filesystem (one syncfs per filesystem, then each file's write-back error checked; the default on Linux 5.8 and later) or each-file (fdatasync of each file).",
            valueName: "filesystem|each-file"),
        transform: { text in
            guard let method = FlushGroup.SyncMethod(rawValue: text) else {
                throw ValidationError("--flush-sync must be filesystem or each-file, not \(text)")
            }
            return method
        })
    var flushSync: FlushGroup.SyncMethod = .preferred

    @Option(
        help: ArgumentHelp(
            "New calls are refused while the data directory's disk has less free space than this (bytes, or K/M/G/T binary units: 256MiB, 2G; 0: never). Live calls go on; recording resumes by itself once there is room.",
            valueName: "BYTES"))
    var minFreeBytes = "256MiB"

    @Option(help: "Streams open at once, all tenants (more are refused: WebSocket close 1013, AudioSocket hangup).")
    var maxCalls = 5_000

    @Option(help: "Streams one tenant may have open at once (a Twilio call is one stream; a binary call one per track).")
    var maxCallsPerTenant = 500

    @Option(help: "Seconds without media after which a stream is finished (recordings sealed complete) and closed.")
    var idleTimeout = 30.0

    @Option(help: "Seconds after which a call is finished and closed.")
    var maxCallSeconds = 14_400.0

    @Option(help: "The largest WebSocket message accepted, in bytes (a Twilio media message is ~400).")
    var maxMessageBytes = 64 * 1024

    @Option(help: "Seconds between passes that upload closed sealed files to the object store (with --objects s3://...).")
    var uploadIntervalSeconds = 2.0

    @Option(help: "Seconds between anchors of the audit chain head in the object store (with --objects s3://...).")
    var auditAnchorSeconds = 60.0

    @Option(help: "Seconds after which a failed webhook delivery is dead-lettered (backoff until then; default 24 h).")
    var webhookGiveUpSeconds = 86_400.0

    @Option(help: "Milliseconds of the first webhook retry's wait; it doubles each further failure (± 20 % jitter).")
    var webhookRetryBaseMs = 5_000

    @Option(help: "The longest wait between webhook retries, in seconds.")
    var webhookRetryMaxSeconds = 3_600.0

    @Option(help: "Seconds a receiver has to answer one webhook delivery.")
    var webhookTimeoutSeconds = 10.0

    @Option(help: "Milliseconds between passes over the webhook outbox when nothing was due.")
    var webhookPollMs = 1_000

    @Option(help: ArgumentHelp("PEM CA certificates trusted besides the system's for webhook receivers (a private CA).", valueName: "FILE"))
    var webhookCaFile: String?

    @Option(help: ArgumentHelp("Control API requests a second per tenant, bursts up to twice that (more get 429; 0: no limit).", valueName: "RATE"))
    var apiRate = 100.0

    @Option(help: ArgumentHelp("Unknown tokens one address may send a minute before its requests with a token get 429 (0: no throttle).", valueName: "N"))
    var apiTokenFailures = 20

    @Option(
        help: ArgumentHelp(
            "Event-loop threads for the listeners (default: one per CPU this process may run on, after taskset or a cpuset).",
            valueName: "N"))
    var eventLoops: Int?

    func validate() throws {
        guard (1...(30 * 86_400)).contains(webhookGiveUpSeconds) else { throw ValidationError("--webhook-give-up-seconds must be 1...2592000") }
        guard (10...3_600_000).contains(webhookRetryBaseMs) else { throw ValidationError("--webhook-retry-base-ms must be 10...3600000") }
        guard (0.01...86_400).contains(webhookRetryMaxSeconds) else { throw ValidationError("--webhook-retry-max-seconds must be 0.01...86400") }
        guard (0.1...300).contains(webhookTimeoutSeconds) else { throw ValidationError("--webhook-timeout-seconds must be 0.1...300") }
        guard (10...60_000).contains(webhookPollMs) else { throw ValidationError("--webhook-poll-ms must be 10...60000") }
        guard (0...1_000_000).contains(apiRate) else { throw ValidationError("--api-rate must be 0...1000000") }
        if let eventLoops, !(1...1024).contains(eventLoops) { throw ValidationError("--event-loops must be 1...1024") }
        guard (0...1_000_000).contains(apiTokenFailures) else { throw ValidationError("--api-token-failures must be 0...1000000") }
        guard (0.1...3600).contains(uploadIntervalSeconds) else { throw ValidationError("--upload-interval-seconds must be 0.1...3600") }
        guard (1...86_400).contains(auditAnchorSeconds) else { throw ValidationError("--audit-anchor-seconds must be 1...86400") }
        guard StorageMonitor.parseByteCount(minFreeBytes) != nil else {
            throw ValidationError("--min-free-bytes '\(minFreeBytes)' is not a byte count (e.g. 268435456, 256MiB, 2G)")
        }
        guard Self.endpoint(http) != nil else { throw ValidationError("--http '\(http)' is not HOST:PORT") }
        if let console, Self.endpoint(console) == nil { throw ValidationError("--console '\(console)' is not HOST:PORT") }
        guard (1...1440).contains(consoleIdleMinutes) else { throw ValidationError("--console-idle-minutes must be 1...1440") }
        guard ConsoleTOTPRequirement(rawValue: consoleRequireTotp) != nil else {
            throw ValidationError("--console-require-totp '\(consoleRequireTotp)' is not one of none, admins, all")
        }
        if let audiosocket, Self.endpoint(audiosocket) == nil {
            throw ValidationError("--audiosocket '\(audiosocket)' is not HOST:PORT")
        }
        for text in sip where SIPServerConfiguration.Listener(text) == nil {
            throw ValidationError("--sip '\(text)' is not udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT")
        }
        guard Self.portRange(rtpPorts) != nil else { throw ValidationError("--rtp-ports '\(rtpPorts)' is not LOW-HIGH (1024-65535, at least 2 ports)") }
        if let first = sip.first.flatMap(SIPServerConfiguration.Listener.init), sipAddress == nil,
            ["0.0.0.0", "::", ""].contains(first.host)
        {
            throw ValidationError("--sip listens on a wildcard address: give --sip-address, the address SBCs reach this server at")
        }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        if requireTls, tlsCert == nil { throw ValidationError("--require-tls needs --tls-cert and --tls-key") }
        do {
            try SIPServerConfiguration.check(
                sip.compactMap(SIPServerConfiguration.Listener.init), hasCredentials: tlsCert != nil, requireTLS: requireTls)
        } catch { throw ValidationError(error.description) }
        guard (10...5_000).contains(sipT1Ms) else { throw ValidationError("--sip-t1-ms must be 10...5000") }
        guard maxSipDialogs >= 1 else { throw ValidationError("--max-sip-dialogs must be at least 1") }
        guard (1...20).contains(segmentSeconds) else { throw ValidationError("--segment-seconds must be 1...20") }
        guard (10...10_000).contains(flushIntervalMs) else { throw ValidationError("--flush-interval-ms must be 10...10000") }
        guard maxCalls >= 1, maxCallsPerTenant >= 1 else { throw ValidationError("--max-calls and --max-calls-per-tenant must be at least 1") }
        guard idleTimeout >= 0.1, maxCallSeconds >= 1 else {
            throw ValidationError("--idle-timeout must be at least 0.1 s and --max-call-seconds at least 1 s")
        }
        guard (1024...(16 << 20)).contains(maxMessageBytes) else { throw ValidationError("--max-message-bytes must be 1024...16777216") }
    }

    /// The webhook dispatcher's settings from the `--webhook-…` options.
    func webhookConfiguration(node: String) -> WebhookDispatcher.Configuration {
        var configuration = WebhookDispatcher.Configuration(node: node)
        configuration.pollInterval = .milliseconds(webhookPollMs)
        configuration.requestTimeout = .milliseconds(Int64(webhookTimeoutSeconds * 1000))
        configuration.retry = WebhookRetryPolicy(
            baseDelay: .milliseconds(webhookRetryBaseMs), maximumDelay: .milliseconds(Int64(webhookRetryMaxSeconds * 1000)),
            giveUpAfter: .milliseconds(Int64(webhookGiveUpSeconds * 1000)))
        configuration.additionalTrustRootsFile = webhookCaFile
        return configuration
    }

    func run() async throws {
        ProcessHardening.disableCoreDumps()
        // Before anything uses NIO's shared group, which is made with this many loops.
        // NIO_SINGLETON_GROUP_LOOP_COUNT, NIO's own setting, is left to NIO unless --event-loops is given.
        if eventLoops != nil || ProcessInfo.processInfo.environment["NIO_SINGLETON_GROUP_LOOP_COUNT"] == nil {
            NIOSingletons.groupLoopCountSuggestion = ProcessorAffinity.eventLoopCount(requested: eventLoops)
        }
        let loops = NIOSingletons.groupLoopCountSuggestion
        var logger = Logger(label: "callvault.serve")
        logger.logLevel = .info
        let directory = try dataOptions.directory
        let files = try dataOptions.sealedFiles()
        let keyStore = try await dataOptions.openKeyStore(logger: logger)
        // The catalog where the directory keeps it: DIR/catalog.sqlite, or the PostgreSQL database of its
        // database.json (or CALLVAULT_DATABASE_URL). Nothing on an event loop waits for it either way.
        let catalog: any CatalogStore
        do { catalog = try await dataOptions.openStore(logger: logger) } catch let error as CatalogError {
            throw CLIError.failure(error.message, hint: "check --data and that `callvault init` ran for it")
        }

        // This node's lease under its own id (see NodeLease): the recordings it opens carry the id, and
        // recovery closes only those of nodes that are gone, now and every few seconds while it runs.
        let nodeLease = try await NodeLease.acquire(catalog, logger: logger)
        let recovery = RecordingRecovery(
            catalog: catalog, keyStore: keyStore, dataDirectory: directory, payloadFormat: SegmentPayload.format,
            logger: logger)
        let recovered = try await recovery.run(sparing: nodeLease.nodes)
        if !recovered.isEmpty { logger.notice("recovered recordings left open by a crash", metadata: ["count": "\(recovered.count)"]) }
        let recovering = nodeLease.recoverPeriodically(recovery, logger: logger)
        defer { recovering.cancel() }
        logger.info("node", metadata: ["node": "\(nodeLease.node)", "eventLoops": "\(loops)", "flushSync": "\(flushSync.rawValue)"])

        // A recording opens its data key on its stream's event loop, where no key-provider round trip is
        // made: every tenant's day keys are prepared ahead, off the loops, and kept fresh. The first pass
        // runs before the listeners open; a tenant whose provider fails is refused with the reason (and
        // retried) while the others record.
        let dayKeys = DayKeyPreparer(catalog: catalog, keyStore: keyStore, logger: logger)
        if keyStore.hasDayKeyProviders {
            let failed = await Self.firstPass(dayKeys)
            let provider = keyStore.dayKeyProvider.map { "\($0.kind.rawValue) key provider at \($0.location)" } ?? "tenants' own"
            logger.info(
                "day keys prepared ahead", metadata: ["provider": "\(provider)", "tenantsFailing": "\(failed.count)"])
            dayKeys.start()
        }
        defer { dayKeys.stop() }

        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        for label in IngestMetrics.latencyTimerLabels { factory.durationHistogramBuckets[label] = IngestMetrics.latencyBuckets }
        MetricsSystem.bootstrap(factory)
        let flushGroup = FlushGroup(
            interval: .milliseconds(flushIntervalMs), catalog: catalog, method: flushSync, logger: logger)
        let storage = StorageMonitor(
            configuration: .init(
                paths: [directory.path, directory.objectsPath],
                minimumFreeBytes: StorageMonitor.parseByteCount(minFreeBytes) ?? StorageMonitor.Configuration.defaultMinimumFreeBytes),
            logger: logger)
        let liveCalls = LiveCallRegistry()
        let limits = IngestLimits(
            maximumStreamsPerTenant: maxCallsPerTenant, maximumStreams: maxCalls,
            idleTimeout: .milliseconds(Int64(idleTimeout * 1000)), maximumCallDuration: .milliseconds(Int64(maxCallSeconds * 1000)))
        let context = IngestContext(
            catalog: catalog, keyStore: keyStore, dataDirectory: directory, flushGroup: flushGroup, liveCalls: liveCalls,
            logger: logger, framesPerSegment: segmentSeconds * 50, limits: limits, dayKeys: dayKeys,
            node: nodeLease.node, fileStorage: files.newFileStorage, storage: storage)
        let api = ControlAPI(
            catalog: catalog, liveCalls: liveCalls, logger: logger,
            callerKeys: { tenantID in
                try keyStore.ensureTenant(tenantID)
                return try keyStore.callerKeys(tenantID: tenantID)
            },
            metricsText: { registry.emitToString() }, dayKeys: dayKeys,
            limits: ControlAPILimits(requestsPerSecond: apiRate, tokenFailuresPerMinute: apiTokenFailures),
            storage: storage, botUtterances: BotUtteranceVault(catalog: catalog, keyStore: keyStore))
        let (host, port) = Self.endpoint(http)!
        var tls: TLSCredentials?
        if let tlsCert, let tlsKey {
            do { tls = try TLSCredentials(certificatePath: tlsCert, keyPath: tlsKey) } catch {
                throw CLIError.failure(error.description, hint: "give a PEM certificate and its unencrypted PEM key")
            }
        }
        let reloading = tls.map { Self.reloadOnHangUp($0, logger: logger) }
        defer { reloading?.cancel() }
        var ingestConfiguration = IngestServer.Configuration(
            host: host, port: port, maximumMessageBytes: maxMessageBytes, tickInterval: limits.tickInterval)
        ingestConfiguration.tls = tls
        ingestConfiguration.requireTLS = requireTls
        let ingest = IngestServer(
            configuration: ingestConfiguration,
            api: api, metrics: context.metrics, logger: logger, makeSession: context.mediaSessions)
        let dispatcher: WebhookDispatcher
        do {
            dispatcher = try WebhookDispatcher(
                store: catalog.webhooks, keyStore: keyStore, configuration: webhookConfiguration(node: nodeLease.node),
                logger: logger)
        } catch {
            throw CLIError.failure(error.message, hint: "give --webhook-ca-file a PEM file of CA certificates")
        }
        // The dispatcher first, so it stops last (services stop in reverse order): the events of the calls
        // the listeners close while draining (recordings sealed complete, calls ended) still go out.
        var services: [any Service] = [
            dispatcher,
            FlushService(group: flushGroup, metrics: context.metrics, storage: storage),
            storage,
            EventLoopLagProbe(timer: context.metrics.eventLoopLag),
            ingest,
        ]
        if let uploader = SealedFileUploader(catalog: catalog, files: files, logger: logger, live: LiveUploads()) {
            services.append(
                UploadService(
                    uploader: uploader, interval: .seconds(uploadIntervalSeconds),
                    anchors: AuditAnchors(audit: catalog.audit, objects: uploader.objects),
                    anchorInterval: .seconds(auditAnchorSeconds), node: nodeLease.node, logger: logger))
            logger.info("sealed files go to an object store", metadata: ["store": "\(uploader.objects.location)"])
        }
        var audioSocketServer: AudioSocketServer?
        if let audiosocket, let (host, port) = Self.endpoint(audiosocket) {
            let server = AudioSocketServer(
                host: host, port: port, tickInterval: limits.tickInterval, metrics: context.metrics, logger: logger,
                makeSession: context.audioSocketSessions)
            services.append(server)
            audioSocketServer = server
        }
        var consoleServer: ConsoleServer?
        if let console, let (host, port) = Self.endpoint(console) {
            let server = ConsoleServer(
                console: Console(
                    catalog: catalog,
                    exporter: RecordingExporter(catalog: catalog, keyStore: keyStore, files: files, payloadFormat: SegmentPayload.format),
                    transcripts: TranscriptStore(
                        catalog: catalog, keyStore: keyStore, dataDirectory: directory, objects: files.objects),
                    configuration: ConsoleConfiguration(
                        host: host, port: port, idleTimeout: .seconds(consoleIdleMinutes * 60),
                        liveCalls: { await liveCalls.snapshots() },
                        requireTOTP: ConsoleTOTPRequirement(rawValue: consoleRequireTotp) ?? .all),
                    tls: tls != nil, logger: logger),
                tls: tls, logger: logger)
            services.append(server)
            consoleServer = server
        }
        var sipServer: SIPServer?
        if !sip.isEmpty, let ports = Self.portRange(rtpPorts) {
            let server = SIPServer(
                configuration: SIPServerConfiguration(
                    listeners: sip.compactMap(SIPServerConfiguration.Listener.init), tls: tls, rtpPorts: ports,
                    advertisedAddress: sipAddress, maximumDialogs: maxSipDialogs, t1: .milliseconds(Int64(sipT1Ms)),
                    t2: .milliseconds(Int64(sipT1Ms) * 8), tickInterval: limits.tickInterval),
                context: context, group: MultiThreadedEventLoopGroup.singleton)
            services.append(server)
            sipServer = server
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [.sigquit], logger: logger))
        // The `listening` line, once every listener is bound (a listener that cannot bind fails the group).
        let announcement = Task { [audioSocketServer, sipServer, consoleServer] in
            guard
                let line = try? await Self.listeningLine(
                    http: ingest, audioSocket: audioSocketServer, sip: sipServer, console: consoleServer)
            else { return }
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        defer { announcement.cancel() }
        try await group.run()
        recovering.cancel()
        await nodeLease.release()
        await catalog.close()
        await (files.objects as? S3ObjectStore)?.shutdown()
        logger.info("stopped")
    }

    /// SIGHUP reloads the TLS certificate and key for new connections (open ones keep theirs); a file
    /// that does not load leaves the old ones in use, logged.
    static func reloadOnHangUp(_ credentials: TLSCredentials, logger: Logger) -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            do throws(TLSCredentialsError) {
                try credentials.reload()
                logger.notice("TLS certificate and key reloaded", metadata: ["certificate": "\(credentials.certificatePath)"])
            } catch {
                logger.error("TLS reload failed; the previous certificate stays in use", metadata: ["error": "\(error.description)"])
            }
        }
        source.resume()
        return source
    }

    /// One pass of the day-key preparer on a dispatch thread (it blocks on the provider), awaited.
    static func firstPass(_ dayKeys: DayKeyPreparer) async -> [String: KeyStoreError] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: dayKeys.prepareAll()) }
        }
    }

    /// `listening http=HOST:PORT[ audiosocket=HOST:PORT][ sip=udp|tcp|tls:HOST:PORT …][ console=http://HOST:PORT]`,
    /// the addresses bound, once all are.
    static func listeningLine(
        http: IngestServer, audioSocket: AudioSocketServer?, sip: SIPServer?, console: ConsoleServer? = nil
    ) async throws -> String {
        var line = "listening http=\(endpoint(try await http.localAddress()))"
        if let audioSocket { line += " audiosocket=\(endpoint(try await audioSocket.localAddress()))" }
        if let sip {
            for (listener, address) in zip(sip.configuration.listeners, try await sip.localAddresses()) {
                line += " sip=\(listener.transport.rawValue):\(endpoint(address))"
            }
        }
        if let console { line += " console=\(try await console.url())" }
        return line + "\n"
    }

    /// `LOW-HIGH` within 1024...65535 with at least one even/odd pair, or nil.
    static func portRange(_ text: String) -> ClosedRange<Int>? {
        let pieces = text.split(separator: "-")
        guard pieces.count == 2, let low = Int(pieces[0]), let high = Int(pieces[1]), low >= 1024, high <= 65_535,
            high - low >= 1
        else { return nil }
        return low...high
    }

    /// An address as `HOST:PORT`, the form `--http` takes.
    static func endpoint(_ address: SocketAddress) -> String {
        "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }

    /// `HOST:PORT` split, or nil.
    static func endpoint(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port), colon > text.startIndex
        else { return nil }
        return (String(text[..<colon]), port)
    }
}

/// Runs the flush group while the server runs; it stops last (services stop in reverse order), after
/// every call sealed its final segment.
struct FlushService: Service {
    let group: FlushGroup
    let metrics: IngestMetrics
    /// Told of a failed `fdatasync` (the disk is failing): new calls are refused until it takes writes.
    var storage: StorageMonitor? = nil

    func run() async throws {
        group.start()
        var passes = group.passes
        var syncFailures = group.syncFailures
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                // Report each pass that synced something: its latency, and that it happened.
                if group.syncFailures != syncFailures {
                    storage?.noteWriteFailure(errno: group.lastSyncFailureErrno, count: group.syncFailures - syncFailures)
                    syncFailures = group.syncFailures
                }
                if group.passes != passes {
                    passes = group.passes
                    if group.lastSyncedFileCount > 0, let latency = group.lastFlushLatency {
                        metrics.flushes.increment()
                        metrics.flushLatency.recordNanoseconds(
                            latency.components.seconds * 1_000_000_000 + latency.components.attoseconds / 1_000_000_000)
                    }
                }
            }
        } onGracefulShutdown: {}
        group.stop()
    }
}
