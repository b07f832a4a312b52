import Logging
internal import PostgresNIO

/// The PostgreSQL store's schema and its versioned migrations.
///
/// Every node runs ``migrate(_:settings:logger:)`` when it opens the store. It takes a session-level
/// advisory lock, so when several nodes start at once exactly one applies a migration and the others
/// wait for it, then find the schema current. Each migration runs in its own transaction together with
/// its `schema_version` row, so a crash leaves the schema at the last whole version. A database whose
/// schema is newer than this binary knows is refused: an old node must not write rows a newer schema
/// gives another meaning.
enum PostgresSchema {
    /// The advisory lock key that serialises migrations ("CVSCHEMA" as bytes).
    static let lockKey: Int64 = 0x4356_5343_4845_4D41

    /// The newest schema version this binary knows.
    static var currentVersion: Int { migrations.last?.version ?? 0 }

    struct Migration {
        let version: Int
        let description: String
        let statements: [String]
    }

    /// Append-only: a released migration is never edited, a change is a new version.
    static let migrations: [Migration] = [
        Migration(
            version: 1, description: "transcription job queue",
            statements: [
                """
                CREATE TABLE jobs (
                    id text PRIMARY KEY,
                    call_id text NOT NULL,
                    recording_id text,
                    tenant_id text NOT NULL,
                    engine text NOT NULL CHECK (length(engine) BETWEEN 1 AND 100),
                    state text NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'running', 'done', 'failed', 'dead', 'cancelled')),
                    priority bigint NOT NULL DEFAULT 0,
                    attempts bigint NOT NULL DEFAULT 0,
                    lease_owner text,
                    lease_expires_at timestamptz,
                    run_after timestamptz NOT NULL,
                    last_error text,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    UNIQUE (call_id, engine),
                    CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
                ) WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01)
                """,
                // A claim walks one of these two partial indexes: they hold only the rows that can be
                // claimed, so finished jobs do not slow claims down as they pile up.
                """
                CREATE INDEX jobs_runnable ON jobs (priority DESC, run_after, created_at)
                    WHERE state IN ('queued', 'failed')
                """,
                "CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state = 'running'",
                "CREATE INDEX jobs_by_state ON jobs (state, created_at)",
            ]),
        Migration(
            version: 2, description: "hash-chained audit log",
            statements: [
                // The columns of the SQLite audit_log, with `at` kept as the same text that is hashed
                // (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), so an entry verifies alike on both backends.
                """
                CREATE TABLE audit_log (
                    seq bigint PRIMARY KEY,
                    at text NOT NULL,
                    actor text NOT NULL,
                    action text NOT NULL,
                    tenant_id text,
                    subject_id text,
                    details text NOT NULL DEFAULT '{}',
                    prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
                    hash bytea NOT NULL CHECK (length(hash) = 32)
                )
                """,
                "CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, seq)",
                // The chain's head: one row, locked FOR UPDATE by every append, so appends from any
                // number of nodes are serialised and each links to the one committed before it.
                """
                CREATE TABLE audit_head (
                    id integer PRIMARY KEY CHECK (id = 1),
                    seq bigint NOT NULL,
                    hash bytea NOT NULL CHECK (length(hash) = 32)
                )
                """,
                "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'))",
                // Append-only, as on SQLite: the chain still shows a change made around these.
                """
                CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'audit_log is append-only: entries cannot be changed or deleted'
                        USING ERRCODE = 'insufficient_privilege';
                END
                $$
                """,
                """
                CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
                    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
                """,
                """
                CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
                    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()
                """,
            ]),
        Migration(
            version: 3, description: "finished jobs archive",
            statements: [
                // Finished jobs moved out of `jobs` (PostgresJobQueue.archiveFinishedJobs), so the table
                // claims update stays as small as the work in flight. The same columns (so a list is one
                // UNION ALL), only finished states, and the call-and-engine key still unique here; the
                // queue keeps it unique across both tables (see PostgresJobQueue.enqueue).
                """
                CREATE TABLE job_archive (
                    id text PRIMARY KEY,
                    call_id text NOT NULL,
                    recording_id text,
                    tenant_id text NOT NULL,
                    engine text NOT NULL,
                    state text NOT NULL CHECK (state IN ('done', 'dead', 'cancelled')),
                    priority bigint NOT NULL,
                    attempts bigint NOT NULL,
                    lease_owner text CHECK (lease_owner IS NULL),
                    lease_expires_at timestamptz CHECK (lease_expires_at IS NULL),
                    run_after timestamptz NOT NULL,
                    last_error text,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    archived_at timestamptz NOT NULL DEFAULT now(),
                    UNIQUE (call_id, engine)
                )
                """,
                "CREATE INDEX job_archive_by_state ON job_archive (state, created_at)",
                // What the archiver walks: finished jobs by age.
                "CREATE INDEX jobs_finished ON jobs (updated_at) WHERE state IN ('done', 'dead', 'cancelled')",
            ]),
        Migration(
            version: 4, description: "catalog: tenants, calls, consent events, recordings, paused spans, transcripts",
            statements: [
                // The SQLite catalog's tables (Catalog+Migrations.swift) with PostgreSQL's types: times as
                // timestamptz (written with millisecond precision), flags as boolean, blobs as bytea. The rules
                // that protect a guarantee are CHECK constraints here too: voice retention ≤ 90 days, a
                // recording's tenant is its call's tenant (composite foreign key).
                """
                CREATE TABLE tenants (
                    id text PRIMARY KEY,
                    name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
                    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
                    consent_mode text NOT NULL DEFAULT 'opt-in'
                        CHECK (consent_mode IN ('opt-in', 'opt-out', 'not-required')),
                    require_disclosure boolean NOT NULL DEFAULT false,
                    consent_digit text CHECK (consent_digit IS NULL OR
                        (length(consent_digit) = 1 AND strpos('0123456789*#ABCD', consent_digit) > 0)),
                    optout_digit text CHECK (optout_digit IS NULL OR
                        (length(optout_digit) = 1 AND strpos('0123456789*#ABCD', optout_digit) > 0)),
                    voice_days integer NOT NULL DEFAULT 90 CHECK (voice_days BETWEEN 1 AND 90),
                    transcript_days integer NOT NULL DEFAULT 365 CHECK (transcript_days >= 1),
                    codec text NOT NULL DEFAULT 'native'
                        CHECK (codec IN ('native', 'opus', 'pcm16', 'g711u', 'g711a')),
                    transcript_language text NOT NULL DEFAULT 'en'
                        CHECK (transcript_language = 'auto' OR length(transcript_language) BETWEEN 2 AND 3),
                    transcript_model text CHECK (transcript_model IS NULL OR
                        (length(transcript_model) BETWEEN 2 AND 1024 AND substr(transcript_model, 1, 1) = '/')),
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                )
                """,
                """
                CREATE TABLE calls (
                    id text PRIMARY KEY,
                    tenant_id text NOT NULL REFERENCES tenants(id),
                    external_id text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
                    started_at timestamptz NOT NULL,
                    ended_at timestamptz,
                    caller_hash bytea CHECK (caller_hash IS NULL OR length(caller_hash) = 32),
                    caller_encrypted bytea,
                    UNIQUE (tenant_id, external_id),
                    UNIQUE (id, tenant_id)
                )
                """,
                "CREATE INDEX calls_by_tenant ON calls (tenant_id, started_at)",
                "CREATE INDEX calls_by_caller ON calls (tenant_id, caller_hash) WHERE caller_hash IS NOT NULL",
                "CREATE INDEX calls_by_external_id ON calls (external_id)",
                """
                CREATE TABLE consent_events (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    call_id text NOT NULL REFERENCES calls(id),
                    kind text NOT NULL
                        CHECK (kind IN ('disclosure', 'consent', 'deny', 'revoke', 'pause', 'resume')),
                    method text NOT NULL CHECK (method IN ('api', 'dtmf', 'verbal', 'inband', 'pipeline')),
                    at timestamptz NOT NULL,
                    frame_index bigint CHECK (frame_index IS NULL OR frame_index >= 0),
                    timeline_ms bigint CHECK (timeline_ms IS NULL OR timeline_ms >= 0)
                )
                """,
                "CREATE INDEX consent_events_by_call ON consent_events (call_id, id)",
                """
                CREATE TABLE recordings (
                    id text PRIMARY KEY,
                    call_id text NOT NULL,
                    tenant_id text NOT NULL,
                    track text NOT NULL CHECK (track IN ('caller', 'bot')),
                    state text NOT NULL DEFAULT 'recording'
                        CHECK (state IN ('recording', 'complete', 'interrupted', 'shredded')),
                    codec text NOT NULL CHECK (codec IN ('opus', 'pcm16', 'g711u', 'g711a')),
                    sample_rate integer NOT NULL CHECK (sample_rate > 0),
                    duration_ms bigint NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
                    bytes bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    hold boolean NOT NULL DEFAULT false,
                    hold_reason text,
                    restricted boolean NOT NULL DEFAULT false,
                    path text NOT NULL,
                    shredded_at timestamptz,
                    FOREIGN KEY (call_id, tenant_id) REFERENCES calls(id, tenant_id)
                )
                """,
                "CREATE INDEX recordings_by_call ON recordings (call_id)",
                "CREATE INDEX recordings_by_tenant ON recordings (tenant_id, created_at)",
                "CREATE INDEX recordings_by_expiry ON recordings (expires_at) WHERE state <> 'shredded'",
                "CREATE INDEX recordings_open ON recordings (created_at) WHERE state = 'recording'",
                """
                CREATE TABLE paused_spans (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    call_id text NOT NULL REFERENCES calls(id),
                    recording_id text REFERENCES recordings(id),
                    start_ms bigint NOT NULL CHECK (start_ms >= 0),
                    end_ms bigint CHECK (end_ms IS NULL OR end_ms >= start_ms)
                )
                """,
                "CREATE INDEX paused_spans_by_call ON paused_spans (call_id, start_ms)",
                """
                CREATE TABLE transcripts (
                    id text PRIMARY KEY,
                    call_id text NOT NULL,
                    tenant_id text NOT NULL,
                    engine text NOT NULL,
                    path text NOT NULL,
                    state text NOT NULL DEFAULT 'complete' CHECK (state IN ('complete', 'shredded')),
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    shredded_at timestamptz,
                    FOREIGN KEY (call_id, tenant_id) REFERENCES calls(id, tenant_id)
                )
                """,
                "CREATE INDEX transcripts_by_call ON transcripts (call_id)",
                "CREATE INDEX transcripts_by_tenant ON transcripts (tenant_id, created_at)",
                "CREATE INDEX transcripts_by_expiry ON transcripts (expires_at) WHERE state <> 'shredded'",
            ]),
        Migration(
            version: 5, description: "service leases (one sweeper at a time)",
            statements: [
                // One row per lease (PostgresServiceLeases): taken with INSERT … ON CONFLICT … WHERE it ran out,
                // its expiry always the server's now() plus the lease, so skewed node clocks agree on it.
                """
                CREATE TABLE service_leases (
                    name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
                    holder text NOT NULL CHECK (length(holder) BETWEEN 1 AND 200),
                    acquired_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL
                )
                """
            ]),
        Migration(
            version: 6, description: "calls found by platform id regardless of ASCII case",
            statements: [
                // AudioSocket finds its call by UUID alone, matched as SQLite's NOCASE does (ASCII letters
                // only: `lower` under the C collation): this index serves that expression.
                "CREATE INDEX calls_by_external_id_nocase ON calls (lower(external_id COLLATE \"C\"))"
            ]),
        Migration(
            version: 7, description: "recordings owned by the serve node recording them",
            statements: [
                // The node's id is its lease's name (service_leases): another node recovers an open recording
                // only once that lease has run out.
                "ALTER TABLE recordings ADD COLUMN node text CHECK (node IS NULL OR length(node) BETWEEN 1 AND 100)"
            ]),
        Migration(
            version: 8, description: "key store: wrapped tenant, hold, day and data keys (key_*)",
            statements: [
                // The tables of keys.sqlite (KeyStore+Schema.swift, migrations v1-v4) with PostgreSQL types.
                // `wrapped` columns hold ciphertext only. A directory keeps its keys here only when its day
                // keys are in a key provider (pkcs11, transit): the keys shredding destroys are then in the
                // provider, and what this database (or a backup of it) holds cannot open shredded data.
                """
                CREATE TABLE key_tenant (
                    tenant_id text PRIMARY KEY,
                    key_id text NOT NULL UNIQUE,
                    wrapped bytea NOT NULL,
                    created_at bigint NOT NULL
                )
                """,
                """
                CREATE TABLE key_hold (
                    tenant_id text PRIMARY KEY REFERENCES key_tenant (tenant_id),
                    key_id text NOT NULL UNIQUE,
                    wrapped bytea NOT NULL,
                    created_at bigint NOT NULL,
                    provider_key text
                )
                """,
                """
                CREATE TABLE key_day (
                    key_id text PRIMARY KEY,
                    tenant_id text NOT NULL REFERENCES key_tenant (tenant_id),
                    day text NOT NULL,
                    kind text NOT NULL CHECK (kind IN ('voice', 'transcript')),
                    wrapped bytea NOT NULL,
                    created_at bigint NOT NULL,
                    provider_key text,
                    UNIQUE (tenant_id, day, kind)
                )
                """,
                "CREATE INDEX key_day_by_day ON key_day (day)",
                """
                CREATE TABLE key_destroyed_day (
                    key_id text PRIMARY KEY,
                    tenant_id text NOT NULL,
                    day text NOT NULL,
                    kind text NOT NULL,
                    destroyed_at bigint NOT NULL,
                    UNIQUE (tenant_id, day, kind)
                )
                """,
                """
                CREATE TABLE key_data (
                    owner_id text PRIMARY KEY,
                    tenant_id text NOT NULL REFERENCES key_tenant (tenant_id),
                    key_id text NOT NULL UNIQUE,
                    kind text NOT NULL CHECK (kind IN ('voice', 'transcript')),
                    expires_on text NOT NULL,
                    held boolean NOT NULL DEFAULT false,
                    wrapping_key_id text NOT NULL,
                    wrapped bytea NOT NULL,
                    created_at bigint NOT NULL
                )
                """,
                "CREATE INDEX key_data_by_wrapping_key ON key_data (wrapping_key_id)",
                """
                CREATE TABLE key_shredded_data (
                    owner_id text PRIMARY KEY,
                    tenant_id text NOT NULL,
                    key_id text NOT NULL,
                    reason text NOT NULL CHECK (reason IN ('expired', 'erased')),
                    shredded_at bigint NOT NULL
                )
                """,
                """
                CREATE TABLE key_retired_provider (
                    provider_key text PRIMARY KEY,
                    tenant_id text NOT NULL,
                    day text NOT NULL,
                    kind text NOT NULL,
                    retired_at bigint NOT NULL
                )
                """,
                // A random key wrapped under the root key of the directory that first opened the key
                // store here: every node must have that root key (the tenant keys are under it), and one
                // that does not is told so at open instead of failing later on a tenant key.
                """
                CREATE TABLE key_root_check (
                    id integer PRIMARY KEY CHECK (id = 1),
                    wrapped bytea NOT NULL,
                    created_at bigint NOT NULL
                )
                """,
            ]),
        Migration(
            version: 9, description: "where each sealed file is when files live in an object store",
            statements: [
                // NULL: in the data directory (the embedded default); spooled → uploading → stored otherwise.
                // The partial indexes hold only the rows a reconciler still uploads.
                """
                ALTER TABLE recordings ADD COLUMN storage text
                    CHECK (storage IS NULL OR storage IN ('spooled', 'uploading', 'stored'))
                """,
                """
                ALTER TABLE transcripts ADD COLUMN storage text
                    CHECK (storage IS NULL OR storage IN ('spooled', 'uploading', 'stored'))
                """,
                "CREATE INDEX recordings_awaiting_upload ON recordings (storage) WHERE storage IN ('spooled', 'uploading')",
                "CREATE INDEX transcripts_awaiting_upload ON transcripts (storage) WHERE storage IN ('spooled', 'uploading')",
            ]),
        Migration(
            version: 10, description: "a tenant's SIP settings (allowed source blocks, its own SIPREC addresses)",
            statements: [
                "ALTER TABLE tenants ADD COLUMN sip_settings text CHECK (sip_settings IS NULL OR length(sip_settings) <= 65536)"
            ]),
        Migration(
            version: 11, description: "what a tenant has redacted from its transcripts (pci, bank, contact, ids)",
            statements: [
                // NULL: none, which existing tenants keep until their operator decides.
                "ALTER TABLE tenants ADD COLUMN redact text CHECK (redact IS NULL OR length(redact) BETWEEN 1 AND 200)"
            ]),
        Migration(
            version: 12, description: "audio redaction: a redacted copy names its original and what it silenced",
            statements: [
                "ALTER TABLE recordings ADD COLUMN redacted_from text CHECK (redacted_from IS NULL OR length(redacted_from) BETWEEN 1 AND 255)",
                "ALTER TABLE recordings ADD COLUMN redaction text CHECK (redaction IS NULL OR length(redaction) <= 1048576)",
                "CREATE INDEX IF NOT EXISTS recordings_by_original ON recordings (redacted_from) WHERE redacted_from IS NOT NULL",
            ]),
        Migration(
            version: 13, description: "sensitive windows the bot declares on a live call",
            statements: [
                """
                CREATE TABLE sensitive_windows (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    call_id text NOT NULL REFERENCES calls(id),
                    start_ms bigint NOT NULL CHECK (start_ms >= 0),
                    end_ms bigint CHECK (end_ms IS NULL OR end_ms >= start_ms),
                    source text NOT NULL CHECK (source IN ('api', 'mark'))
                )
                """,
                "CREATE INDEX sensitive_windows_by_call ON sensitive_windows (call_id)",
            ]),
        Migration(
            version: 14, description: "web console operators (scrypt password hashes) and their role per tenant",
            statements: [
                """
                CREATE TABLE operators (
                    name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
                    password_hash text NOT NULL CHECK (password_hash LIKE 'scrypt$%' AND length(password_hash) <= 512),
                    global_admin boolean NOT NULL DEFAULT false,
                    created_at timestamptz NOT NULL
                )
                """,
                """
                CREATE TABLE operator_roles (
                    operator_name text NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
                    tenant_id text NOT NULL REFERENCES tenants(id),
                    role text NOT NULL CHECK (role IN ('viewer', 'agent', 'admin')),
                    PRIMARY KEY (operator_name, tenant_id)
                )
                """,
                "CREATE INDEX calls_by_tenant_started ON calls (tenant_id, started_at DESC, id)",
            ]),
        Migration(
            version: 15, description: "webhooks: tenants' endpoints and the outbox",
            statements: [
                // The SQLite catalog's v14 (Catalog+Migrations.swift) with PostgreSQL's types. Secrets are kept
                // wrapped under the tenant key; outbox rows are claimed FOR UPDATE SKIP LOCKED with a lease.
                """
                CREATE TABLE webhook_endpoints (
                    tenant_id text PRIMARY KEY REFERENCES tenants(id),
                    url text NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
                    allow_private boolean NOT NULL DEFAULT false,
                    secret_id text NOT NULL CHECK (length(secret_id) BETWEEN 1 AND 100),
                    secret_wrapped bytea NOT NULL,
                    previous_secret_id text,
                    previous_secret_wrapped bytea,
                    previous_until timestamptz,
                    updated_at timestamptz NOT NULL,
                    CHECK ((previous_secret_id IS NULL) = (previous_secret_wrapped IS NULL))
                )
                """,
                """
                CREATE TABLE webhook_outbox (
                    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id text NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 100),
                    tenant_id text NOT NULL REFERENCES tenants(id),
                    call_id text,
                    type text NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
                    payload text NOT NULL,
                    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
                    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                    next_attempt_at timestamptz NOT NULL,
                    armed_at timestamptz NOT NULL,
                    lease_owner text,
                    lease_expires_at timestamptz,
                    last_error text,
                    created_at timestamptz NOT NULL,
                    delivered_at timestamptz
                )
                """,
                "CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at, seq) WHERE state = 'pending'",
                """
                CREATE INDEX webhook_outbox_pending_by_call ON webhook_outbox (call_id, seq)
                    WHERE state = 'pending' AND call_id IS NOT NULL
                """,
                "CREATE INDEX webhook_outbox_by_tenant ON webhook_outbox (tenant_id, seq)",
            ]),
        Migration(
            version: 16, description: "what the bot said, as its platform sent it, sealed",
            statements: [
                """
                CREATE TABLE bot_utterances (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    call_id text NOT NULL REFERENCES calls(id),
                    utterance_id text NOT NULL CHECK (length(utterance_id) BETWEEN 1 AND 100),
                    start_ms bigint NOT NULL CHECK (start_ms >= 0),
                    end_ms bigint CHECK (end_ms IS NULL OR end_ms >= start_ms),
                    placement text NOT NULL CHECK (placement IN ('given', 'arrival', 'mark')),
                    sealed_text bytea NOT NULL,
                    UNIQUE (call_id, utterance_id)
                )
                """,
            ]),
        Migration(
            version: 17, description: "how a tenant's calls are transcribed: the bot's side, a vocabulary",
            statements: [
                "ALTER TABLE tenants ADD COLUMN transcription text CHECK (transcription IS NULL OR length(transcription) BETWEEN 2 AND 8000)"
            ]),
        Migration(
            version: 18, description: "the TLS client certificates a tenant's platform must present",
            statements: [
                "ALTER TABLE tenants ADD COLUMN client_certs text CHECK (client_certs IS NULL OR length(client_certs) BETWEEN 64 AND 649)"
            ]),
        Migration(
            version: 19, description: "an operator's optional TOTP second factor and the last step accepted",
            statements: [
                "ALTER TABLE operators ADD COLUMN totp_secret bytea CHECK (totp_secret IS NULL OR octet_length(totp_secret) = 20)",
                "ALTER TABLE operators ADD COLUMN totp_last_step bigint",
            ]),
        Migration(
            version: 20, description: "a call's consent outcome in a column, indexes for the console's filtered call and job pages",
            statements: [
                // The SQLite catalog's v19. The backfill folds each call's stored events as
                // CallConsentState.summarize does (a pause remembers the state before it).
                """
                ALTER TABLE calls ADD COLUMN consent_state text NOT NULL DEFAULT 'pending'
                    CHECK (consent_state IN ('pending', 'disclosed', 'granted', 'denied', 'revoked', 'paused', 'not-required'))
                """,
                """
                UPDATE calls SET consent_state = 'not-required'
                    WHERE tenant_id IN (SELECT id FROM tenants WHERE consent_mode = 'not-required')
                """,
                """
                DO $$
                DECLARE
                    c record;
                    e record;
                    st text;
                    before_pause text;
                BEGIN
                    FOR c IN SELECT calls.id, t.consent_mode FROM calls JOIN tenants t ON t.id = calls.tenant_id
                        WHERE EXISTS (SELECT 1 FROM consent_events x WHERE x.call_id = calls.id)
                    LOOP
                        st := CASE WHEN c.consent_mode = 'not-required' THEN 'not-required' ELSE 'pending' END;
                        before_pause := st;
                        FOR e IN SELECT kind FROM consent_events WHERE call_id = c.id ORDER BY id LOOP
                            IF e.kind = 'disclosure' THEN
                                IF st = 'pending' THEN
                                    st := CASE WHEN c.consent_mode = 'opt-out' THEN 'granted' ELSE 'disclosed' END;
                                END IF;
                            ELSIF e.kind = 'consent' THEN
                                IF st <> 'paused' THEN st := 'granted'; ELSE before_pause := 'granted'; END IF;
                            ELSIF e.kind = 'deny' THEN
                                st := 'denied';
                            ELSIF e.kind = 'revoke' THEN
                                st := 'revoked';
                            ELSIF e.kind = 'pause' THEN
                                IF st <> 'paused' THEN before_pause := st; st := 'paused'; END IF;
                            ELSIF e.kind = 'resume' THEN
                                IF st = 'paused' THEN st := before_pause; END IF;
                            END IF;
                        END LOOP;
                        UPDATE calls SET consent_state = st WHERE id = c.id;
                    END LOOP;
                END
                $$
                """,
                #"CREATE INDEX calls_by_started ON calls (started_at DESC, id COLLATE "C")"#,
                #"CREATE INDEX calls_by_consent ON calls (consent_state, started_at DESC, id COLLATE "C")"#,
                #"CREATE INDEX calls_by_tenant_consent ON calls (tenant_id, consent_state, started_at DESC, id COLLATE "C")"#,
                #"CREATE INDEX calls_live ON calls (started_at DESC, id COLLATE "C") WHERE ended_at IS NULL"#,
                #"CREATE INDEX calls_live_by_tenant ON calls (tenant_id, started_at DESC, id COLLATE "C") WHERE ended_at IS NULL"#,
                #"CREATE INDEX jobs_by_created ON jobs (created_at DESC, id COLLATE "C" DESC)"#,
                #"CREATE INDEX jobs_by_tenant_created ON jobs (tenant_id, created_at DESC, id COLLATE "C" DESC)"#,
                #"CREATE INDEX job_archive_by_tenant_created ON job_archive (tenant_id, created_at DESC, id COLLATE "C" DESC)"#,
            ]),
        Migration(
            version: 21, description: "indexes for the console's audit filters: action, actor, subject",
            statements: [
                // The SQLite catalog's v20.
                "CREATE INDEX audit_log_by_action ON audit_log (action, seq)",
                "CREATE INDEX audit_log_by_actor ON audit_log (actor, seq)",
                "CREATE INDEX audit_log_by_subject ON audit_log (subject_id, seq)",
            ]),
        Migration(
            version: 22, description: "web console sessions, shared by every node (the SQLite catalog's v21)",
            statements: [
                """
                CREATE TABLE console_sessions (
                    id text PRIMARY KEY CHECK (length(id) = 64),
                    operator_name text NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
                    created_at timestamptz NOT NULL,
                    last_seen_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX console_sessions_by_last_seen ON console_sessions (last_seen_at)",
                "CREATE INDEX console_sessions_by_operator ON console_sessions (operator_name)",
            ]),
        Migration(
            version: 23, description: "operators' TOTP secrets sealed under the key store's root key (the SQLite catalog's v22)",
            statements: [
                "ALTER TABLE operators ADD COLUMN totp_sealed bytea CHECK (totp_sealed IS NULL OR octet_length(totp_sealed) = 49)"
            ]),
        Migration(
            version: 24, description: "console playback grants, shared by every node (the SQLite catalog's v23)",
            statements: [
                """
                CREATE TABLE console_playback_grants (
                    session_id text PRIMARY KEY REFERENCES console_sessions(id) ON DELETE CASCADE,
                    call_id text NOT NULL,
                    reason text NOT NULL CHECK (octet_length(reason) BETWEEN 1 AND 500),
                    override_reason text CHECK (override_reason IS NULL OR octet_length(override_reason) BETWEEN 1 AND 500),
                    expires_at timestamptz NOT NULL
                )
                """
            ]),
        Migration(
            version: 25, description: "failed console sign-ins, counted by every node (the SQLite catalog's v24)",
            statements: [
                """
                CREATE TABLE console_sign_in_failures (
                    name text NOT NULL CHECK (octet_length(name) <= 200),
                    address text NOT NULL CHECK (octet_length(address) <= 200),
                    failures integer NOT NULL CHECK (failures > 0),
                    last_failure_at timestamptz NOT NULL,
                    locked_until timestamptz,
                    PRIMARY KEY (name, address)
                )
                """,
                "CREATE INDEX console_sign_in_failures_by_last ON console_sign_in_failures (last_failure_at)",
            ]),
    ]

    /// Brings the database's schema to ``currentVersion``, or refuses a newer one.
    static func migrate(_ client: PostgresClient, settings: PostgresStoreSettings, logger: Logger) async throws {
        try await client.withConnection { connection in
            // The connection's own time limits (statement, idle in a transaction: set for operations) are
            // lifted while it migrates, and restored after: waiting for another node's migration, or a
            // migration's DDL on a busy server, may take longer, and a server that cut the connection in
            // the middle left postgres-nio's caller waiting for ever (seen in full test runs on 2 cores).
            _ = try await connection.query("SET statement_timeout = 0", logger: logger)
            _ = try await connection.query("SET idle_in_transaction_session_timeout = 0", logger: logger)
            _ = try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
            do {
                try await migrate(connection, settings: settings, logger: logger)
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                _ = try? await connection.query("RESET statement_timeout", logger: logger)
                _ = try? await connection.query("RESET idle_in_transaction_session_timeout", logger: logger)
                throw error
            }
            _ = try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
            _ = try await connection.query("RESET statement_timeout", logger: logger)
            _ = try await connection.query("RESET idle_in_transaction_session_timeout", logger: logger)
        }
    }

    private static func migrate(_ connection: PostgresConnection, settings: PostgresStoreSettings, logger: Logger)
        async throws
    {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_version (
                version integer PRIMARY KEY,
                description text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var version = 0
        for try await found in try await connection.query(
            "SELECT COALESCE(max(version), 0)::bigint FROM schema_version", logger: logger
        ).decode(Int.self) {
            version = found
        }
        guard version <= currentVersion else {
            throw JobQueueError(
                .schemaTooNew,
                "the database \(settings.description) has schema version \(version), newer than this callvault "
                    + "binary knows (\(currentVersion)): another node was upgraded; upgrade callvault on this node "
                    + "to the same release before starting it")
        }
        for migration in migrations where migration.version > version {
            logger.info(
                "applying PostgreSQL schema migration",
                metadata: ["version": "\(migration.version)", "database": "\(settings.description)"])
            try await connection.withTransaction(logger: logger) { connection in
                // Checked again under a lock on the version table, within the migration's own transaction:
                // if the advisory lock was lost (the session ended under a loaded machine while another
                // node waited), a migration another node committed meanwhile is skipped, never run twice.
                try await connection.query("LOCK TABLE schema_version IN SHARE ROW EXCLUSIVE MODE", logger: logger)
                var applied = false
                for try await _ in try await connection.query(
                    "SELECT 1 FROM schema_version WHERE version = \(migration.version)", logger: logger)
                {
                    applied = true
                }
                guard !applied else { return }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_version (version, description) VALUES (\(migration.version), \(migration.description))",
                    logger: logger)
            }
        }
    }
}
