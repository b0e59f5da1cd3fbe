import Foundation
public import Logging
import PostgresNIO

/// Headquarters' schema, as numbered migrations applied in order, each in its own transaction, under
/// an advisory lock so that several `edge-hq` replicas starting at once apply each exactly once. A
/// database migrated by a newer `edge-hq` is refused rather than written by an older one.
///
/// Synced tables keep the box's names and carry `site_id`; their primary key is `(site_id, id)`, so
/// they can be partitioned by site (see the README's note on growth). Each holds the box's row as
/// `jsonb` (`row`) with its `version` and `changed_at`, plus generated columns for what headquarters
/// queries.
public enum HQMigrations {
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        /// One statement each (the extended protocol takes one statement at a time).
        let statements: [String]
    }

    /// Why migrating stopped.
    public struct MigrationError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// An arbitrary constant: the advisory lock that serialises migrations across replicas.
    static let lockKey: Int64 = 0x6564_6765_6871

    public static let all: [Migration] = [
        Migration(version: 1, name: "sites, devices, synced tables", statements: v1),
        Migration(version: 2, name: "downloads and conflicts", statements: v2),
        Migration(version: 3, name: "recording uploads", statements: v3),
        Migration(version: 4, name: "overbooking flags", statements: v4),
        Migration(version: 5, name: "Twilio fallback and voicemails", statements: v5),
        Migration(version: 6, name: "recording uploads' last part, recording retention per site", statements: v6),
    ]

    /// Applies what is pending; returns the names applied.
    @discardableResult
    public static func apply(_ database: HQDatabase, logger: Logger) async throws -> [String] {
        // A migration may rewrite big tables and wait for another replica's: no statement timeout here.
        try await database.connection(deadline: .seconds(6 * 3600)) { connection in
            try await connection.query("SET statement_timeout = 0", logger: logger)
            try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
            do {
                let applied = try await applyLocked(connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                throw error
            }
        }
    }

    private static func applyLocked(_ connection: HQConnection, logger: Logger) async throws -> [String] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        var current = 0
        for try await version in try await connection.query(
            "SELECT coalesce(max(version), 0) FROM schema_migrations", logger: logger
        ).decode(Int.self) {
            current = version
        }
        let newest = all.last?.version ?? 0
        guard current <= newest else {
            throw MigrationError(
                description:
                    "the database is at schema version \(current), newer than this edge-hq knows (\(newest)); run a newer edge-hq"
            )
        }
        var applied: [String] = []
        for migration in all where migration.version > current {
            try await connection.transaction { connection in
                // The statements are constants of this file, never built from input.
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger)
            }
            logger.info("migration applied", metadata: ["migration": .string("\(migration.version) \(migration.name)")])
            applied.append(migration.name)
        }
        return applied
    }

    private static let v1: [String] = [
        #"""
            CREATE TABLE sites (
                id text PRIMARY KEY,
                name text NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
                created_at timestamptz NOT NULL DEFAULT now()
            )
        """#,
        #"""
            CREATE TABLE devices (
                id text PRIMARY KEY,
                site_id text NOT NULL REFERENCES sites (id),
                public_key bytea NOT NULL UNIQUE CHECK (octet_length(public_key) = 32),
                name text NOT NULL,
                enrolled_at timestamptz NOT NULL DEFAULT now(),
                revoked_at timestamptz,
                last_seen_at timestamptz
            )
        """#,
        #"""
            CREATE INDEX devices_by_site ON devices (site_id)
        """#,
        #"""
            CREATE TABLE enrolment_tokens (
                token_sha256 bytea PRIMARY KEY,
                site_id text NOT NULL REFERENCES sites (id),
                created_at timestamptz NOT NULL DEFAULT now(),
                expires_at timestamptz NOT NULL,
                used_at timestamptz,
                device_id text REFERENCES devices (id)
            )
        """#,
        #"""
            -- Nonces seen per device, kept for the freshness window: a replayed request is refused.
            CREATE TABLE request_nonces (
                device_id text NOT NULL REFERENCES devices (id),
                nonce text NOT NULL,
                seen_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (device_id, nonce)
            )
        """#,
        #"""
            CREATE INDEX request_nonces_by_time ON request_nonces (seen_at)
        """#,
        #"""
            -- The answer given to each upload batch, so a repeated idempotency key gets the same answer.
            CREATE TABLE upload_batches (
                device_id text NOT NULL REFERENCES devices (id),
                idempotency_key text NOT NULL,
                body_sha256 text NOT NULL,
                response jsonb NOT NULL,
                received_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (device_id, idempotency_key)
            )
        """#,
        #"""
            -- Erasures (privacy requests) by row: they win over any write of the row, earlier or later.
            CREATE TABLE erasures (
                site_id text NOT NULL REFERENCES sites (id),
                table_name text NOT NULL,
                row_id text NOT NULL,
                version bigint NOT NULL,
                erased_at bigint NOT NULL,
                received_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (site_id, table_name, row_id)
            )
        """#,
        #"""
            -- The synced tables, one shape: the box's row as jsonb, its version and when it changed (Unix
            -- ms, the box's clock), where the change came from, and when headquarters received it.
            DO $$
            DECLARE t text;
            BEGIN
                FOREACH t IN ARRAY ARRAY['reservations', 'customers', 'calls', 'conversation_turns',
                    'tool_executions', 'call_metrics', 'menu_items', 'menu_item_translations', 'recordings',
                    'site_settings', 'daily_call_summaries']
                LOOP
                    EXECUTE format($f$
                        CREATE TABLE %I (
                            site_id text NOT NULL REFERENCES sites (id),
                            id text NOT NULL,
                            version bigint NOT NULL CHECK (version >= 1),
                            changed_at bigint NOT NULL,
                            origin text NOT NULL CHECK (origin IN ('box', 'hq')),
                            received_at timestamptz NOT NULL DEFAULT now(),
                            row jsonb NOT NULL,
                            PRIMARY KEY (site_id, id)
                        )$f$, t);
                END LOOP;
            END
            $$
        """#,
        #"""
            ALTER TABLE reservations
                ADD COLUMN starts_at bigint GENERATED ALWAYS AS ((row ->> 'starts_at')::bigint) STORED,
                ADD COLUMN party_size integer GENERATED ALWAYS AS ((row ->> 'party_size')::integer) STORED,
                ADD COLUMN status text GENERATED ALWAYS AS (row ->> 'status') STORED
        """#,
        #"""
            CREATE INDEX reservations_by_start ON reservations (site_id, starts_at)
        """#,
        #"""
            ALTER TABLE calls ADD COLUMN started_at bigint GENERATED ALWAYS AS ((row ->> 'started_at')::bigint) STORED
        """#,
        #"""
            CREATE INDEX calls_by_start ON calls (site_id, started_at)
        """#,
        #"""
            ALTER TABLE conversation_turns ADD COLUMN call_id text GENERATED ALWAYS AS (row ->> 'call_id') STORED
        """#,
        #"""
            ALTER TABLE tool_executions ADD COLUMN call_id text GENERATED ALWAYS AS (row ->> 'call_id') STORED
        """#,
        #"""
            ALTER TABLE call_metrics ADD COLUMN call_id text GENERATED ALWAYS AS (row ->> 'call_id') STORED
        """#,
        #"""
            CREATE INDEX conversation_turns_by_call ON conversation_turns (site_id, call_id)
        """#,
        #"""
            CREATE INDEX tool_executions_by_call ON tool_executions (site_id, call_id)
        """#,
        #"""
            CREATE INDEX call_metrics_by_call ON call_metrics (site_id, call_id)
        """#,
        #"""
            ALTER TABLE recordings
                ADD COLUMN state text GENERATED ALWAYS AS (row ->> 'state') STORED,
                ADD COLUMN ciphertext_sha256 text GENERATED ALWAYS AS (row ->> 'ciphertext_sha256') STORED
        """#,
        #"""
            -- Every version of every reservation that reached headquarters, from either side.
            CREATE TABLE reservation_history (
                site_id text NOT NULL,
                reservation_id text NOT NULL,
                version bigint NOT NULL,
                origin text NOT NULL,
                changed_at bigint NOT NULL,
                row jsonb NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (site_id, reservation_id, version, origin)
            )
        """#,
        #"""
            -- An erasure: the row (and a call's turns, tool executions and metrics) removed, and remembered.
            CREATE FUNCTION sync_erase(p_site text, p_table text, p_id text, p_version bigint, p_erased_at bigint)
            RETURNS void
            LANGUAGE plpgsql AS $$
            BEGIN
                IF p_table NOT IN ('reservations', 'customers', 'calls', 'conversation_turns', 'tool_executions',
                    'call_metrics', 'menu_items', 'menu_item_translations', 'recordings', 'daily_call_summaries') THEN
                    RAISE EXCEPTION 'unknown synced table %', p_table USING ERRCODE = '22023';
                END IF;
                INSERT INTO erasures (site_id, table_name, row_id, version, erased_at)
                    VALUES (p_site, p_table, p_id, p_version, p_erased_at)
                    ON CONFLICT (site_id, table_name, row_id) DO UPDATE
                    SET version = greatest(erasures.version, EXCLUDED.version);
                EXECUTE format('DELETE FROM %I WHERE site_id = $1 AND id = $2', p_table) USING p_site, p_id;
                IF p_table = 'reservations' THEN
                    DELETE FROM reservation_history WHERE site_id = p_site AND reservation_id = p_id;
                ELSIF p_table = 'calls' THEN
                    DELETE FROM conversation_turns WHERE site_id = p_site AND call_id = p_id;
                    DELETE FROM tool_executions WHERE site_id = p_site AND call_id = p_id;
                    DELETE FROM call_metrics WHERE site_id = p_site AND call_id = p_id;
                END IF;
            END
            $$
        """#,
    ]

    /// Headquarters' own writes (menus, online bookings) get a per-site change counter, `seq`, taken
    /// from `sites.change_seq` in the writing transaction: the site's row stays locked until commit, so
    /// the counter grows in commit order and a download by cursor can never skip a change. Conflicts:
    /// the same version of a reservation written differently on both sides goes to the later
    /// `changed_at` (headquarters on a tie); both versions stay in `reservation_history`, and the
    /// winner gets a new version and counter so that the box receives it.
    private static let v2: [String] = [
        "ALTER TABLE sites ADD COLUMN change_seq bigint NOT NULL DEFAULT 0",
        #"""
        DO $$
        DECLARE t text;
        BEGIN
            FOREACH t IN ARRAY ARRAY['reservations', 'customers', 'calls', 'conversation_turns',
                'tool_executions', 'call_metrics', 'menu_items', 'menu_item_translations', 'recordings',
                'site_settings', 'daily_call_summaries']
            LOOP
                EXECUTE format('ALTER TABLE %I ADD COLUMN seq bigint', t);
                EXECUTE format('CREATE INDEX %I ON %I (site_id, seq) WHERE seq IS NOT NULL', t || '_by_seq', t);
            END LOOP;
        END
        $$
        """#,
        "ALTER TABLE reservation_history ADD COLUMN outcome text NOT NULL DEFAULT 'applied'",
        #"""
        -- A write made at headquarters (the menu, an online booking): the next version, the next counter,
        -- stamped by the hybrid logical clock.
        CREATE FUNCTION hq_write(p_site text, p_table text, p_id text, p_changed_at bigint, p_row jsonb)
        RETURNS bigint
        LANGUAGE plpgsql AS $$
        DECLARE
            existing bigint;
            existing_changed bigint;
            stamp bigint;
            next_version bigint;
            next_seq bigint;
            stored jsonb;
        BEGIN
            IF p_table NOT IN ('reservations', 'menu_items', 'menu_item_translations', 'site_settings') THEN
                RAISE EXCEPTION 'headquarters does not write %', p_table USING ERRCODE = '22023';
            END IF;
            UPDATE sites SET change_seq = change_seq + 1 WHERE id = p_site RETURNING change_seq INTO next_seq;
            IF next_seq IS NULL THEN
                RAISE EXCEPTION 'unknown site %', p_site USING ERRCODE = '22023';
            END IF;
            EXECUTE format('SELECT version, changed_at FROM %I WHERE site_id = $1 AND id = $2 FOR UPDATE', p_table)
                INTO existing, existing_changed USING p_site, p_id;
            next_version := coalesce(existing, 0) + 1;
            -- The hybrid logical clock: a write that follows the row's last version is stamped after
            -- it, whatever headquarters' clock says.
            stamp := greatest(p_changed_at, coalesce(existing_changed, 0) + 1);
            stored := p_row || jsonb_build_object('id', p_id, 'version', next_version);
            EXECUTE format('INSERT INTO %I (site_id, id, version, changed_at, origin, row, seq)
                VALUES ($1, $2, $3, $4, ''hq'', $5, $6)
                ON CONFLICT (site_id, id) DO UPDATE SET version = EXCLUDED.version, changed_at = EXCLUDED.changed_at,
                    origin = ''hq'', row = EXCLUDED.row, seq = EXCLUDED.seq, received_at = now()', p_table)
                USING p_site, p_id, next_version, stamp, stored, next_seq;
            IF p_table = 'reservations' THEN
                INSERT INTO reservation_history (site_id, reservation_id, version, origin, changed_at, row)
                    VALUES (p_site, p_id, next_version, 'hq', stamp, stored) ON CONFLICT DO NOTHING;
            END IF;
            RETURN next_version;
        END
        $$
        """#,
        #"""
        -- One change from a box. A newer version wins; the same version with the same row is a repeat;
        -- the same version with another row is a conflict, won by the later changed_at (headquarters on
        -- a tie): a box that wins is stored as the next version with a new counter, so it comes back down;
        -- a box that loses is told superseded and receives headquarters' row by download.
        CREATE FUNCTION sync_apply(p_site text, p_table text, p_id text, p_version bigint, p_changed_at bigint,
            p_row jsonb, p_origin text)
        RETURNS TABLE (outcome text, current_version bigint)
        LANGUAGE plpgsql AS $$
        DECLARE
            existing bigint;
            existing_row jsonb;
            existing_changed bigint;
            existing_origin text;
            erased bigint;
            next_seq bigint;
            inserted integer;
        BEGIN
            IF p_table NOT IN ('reservations', 'customers', 'calls', 'conversation_turns', 'tool_executions',
                'call_metrics', 'menu_items', 'menu_item_translations', 'recordings', 'daily_call_summaries') THEN
                RAISE EXCEPTION 'unknown synced table %', p_table USING ERRCODE = '22023';
            END IF;
            SELECT e.version INTO erased FROM erasures e
                WHERE e.site_id = p_site AND e.table_name = p_table AND e.row_id = p_id;
            IF erased IS NULL AND p_table IN ('conversation_turns', 'tool_executions', 'call_metrics') THEN
                SELECT e.version INTO erased FROM erasures e
                    WHERE e.site_id = p_site AND e.table_name = 'calls' AND e.row_id = p_row ->> 'call_id';
            END IF;
            IF erased IS NOT NULL THEN
                RETURN QUERY SELECT 'superseded'::text, erased;
                RETURN;
            END IF;
            EXECUTE format('INSERT INTO %I (site_id, id, version, changed_at, origin, row)
                VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (site_id, id) DO NOTHING', p_table)
                USING p_site, p_id, p_version, p_changed_at, p_origin, p_row;
            GET DIAGNOSTICS inserted = ROW_COUNT;
            IF inserted = 1 THEN
                IF p_table = 'reservations' THEN
                    INSERT INTO reservation_history (site_id, reservation_id, version, origin, changed_at, row)
                        VALUES (p_site, p_id, p_version, p_origin, p_changed_at, p_row) ON CONFLICT DO NOTHING;
                END IF;
                RETURN QUERY SELECT 'applied'::text, p_version;
                RETURN;
            END IF;
            EXECUTE format('SELECT version, row, changed_at, origin FROM %I WHERE site_id = $1 AND id = $2 FOR UPDATE',
                p_table) INTO existing, existing_row, existing_changed, existing_origin USING p_site, p_id;
            IF existing < p_version THEN
                EXECUTE format('UPDATE %I SET version = $3, changed_at = $4, origin = $5, row = $6,
                    received_at = now() WHERE site_id = $1 AND id = $2', p_table)
                    USING p_site, p_id, p_version, p_changed_at, p_origin, p_row;
                IF p_table = 'reservations' THEN
                    INSERT INTO reservation_history (site_id, reservation_id, version, origin, changed_at, row)
                        VALUES (p_site, p_id, p_version, p_origin, p_changed_at, p_row) ON CONFLICT DO NOTHING;
                END IF;
                RETURN QUERY SELECT 'applied'::text, p_version;
                RETURN;
            END IF;
            IF existing > p_version OR existing_row = p_row OR existing_origin = p_origin THEN
                -- Older, a repeat, or the same side's own version again: nothing changes.
                RETURN QUERY SELECT CASE WHEN existing > p_version THEN 'superseded' ELSE 'applied' END, existing;
                RETURN;
            END IF;
            -- The same version written differently on both sides.
            IF p_table = 'reservations' THEN
                INSERT INTO reservation_history (site_id, reservation_id, version, origin, changed_at, row, outcome)
                    VALUES (p_site, p_id, p_version, p_origin, p_changed_at, p_row,
                        CASE WHEN p_changed_at > existing_changed THEN 'won' ELSE 'lost' END)
                    ON CONFLICT DO NOTHING;
            END IF;
            IF p_changed_at > existing_changed THEN
                UPDATE sites SET change_seq = change_seq + 1 WHERE id = p_site RETURNING change_seq INTO next_seq;
                EXECUTE format('UPDATE %I SET version = $3, changed_at = $4, origin = $5, row = $6, seq = $7,
                    received_at = now() WHERE site_id = $1 AND id = $2', p_table)
                    USING p_site, p_id, existing + 1, p_changed_at, p_origin,
                        p_row || jsonb_build_object('version', existing + 1), next_seq;
                RETURN QUERY SELECT 'applied'::text, existing + 1;
                RETURN;
            END IF;
            RETURN QUERY SELECT 'superseded'::text, existing;
        END
        $$
        """#,
        #"""
        -- A whole batch in one call (one round trip). New rows of the box's own tables (not reservations,
        -- which keep a history) go in with one INSERT per table; everything else (updates, repeats,
        -- erasures, a row twice in the batch, reservations) goes through sync_apply or sync_erase in the
        -- batch's order. One result per change, with its position.
        CREATE FUNCTION sync_apply_batch(p_site text, p_changes jsonb)
        RETURNS TABLE (ordinal bigint, outcome text, current_version bigint)
        LANGUAGE plpgsql AS $$
        DECLARE
            t text;
            done bigint[] := '{}';
            change jsonb;
            position bigint;
            result record;
        BEGIN
            FOREACH t IN ARRAY ARRAY['customers', 'calls', 'conversation_turns', 'tool_executions', 'call_metrics',
                'recordings', 'daily_call_summaries']
            LOOP
                FOR result IN EXECUTE format($f$
                    WITH changes AS (
                        SELECT x.n, x.c, count(*) OVER (PARTITION BY x.c ->> 'table', x.c ->> 'row_id') AS copies
                        FROM jsonb_array_elements($2) WITH ORDINALITY AS x(c, n)
                    ), candidates AS (
                        SELECT n, c FROM changes
                        WHERE copies = 1 AND c ->> 'table' = %1$L AND c ->> 'operation' = 'upsert'
                            AND NOT EXISTS (SELECT 1 FROM erasures e
                                WHERE e.site_id = $1 AND e.table_name = %1$L AND e.row_id = c ->> 'row_id')
                            AND NOT (%1$L IN ('conversation_turns', 'tool_executions', 'call_metrics')
                                AND EXISTS (SELECT 1 FROM erasures e WHERE e.site_id = $1 AND e.table_name = 'calls'
                                    AND e.row_id = c -> 'row' ->> 'call_id'))
                    ), inserted AS (
                        INSERT INTO %1$I (site_id, id, version, changed_at, origin, row)
                        SELECT $1, c ->> 'row_id', (c ->> 'version')::bigint, (c ->> 'changed_at')::bigint, 'box', c -> 'row'
                        FROM candidates
                        ON CONFLICT (site_id, id) DO NOTHING
                        RETURNING id, version
                    )
                    SELECT candidates.n, inserted.version FROM inserted JOIN candidates ON candidates.c ->> 'row_id' = inserted.id
                    $f$, t) USING p_site, p_changes
                LOOP
                    done := done || result.n;
                    ordinal := result.n;
                    outcome := 'applied';
                    current_version := result.version;
                    RETURN NEXT;
                END LOOP;
            END LOOP;
            FOR change, position IN SELECT x.c, x.n FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS x(c, n)
                WHERE NOT (x.n = ANY (done)) ORDER BY x.n
            LOOP
                IF change ->> 'table' NOT IN ('reservations', 'customers', 'calls', 'conversation_turns',
                    'tool_executions', 'call_metrics', 'recordings', 'daily_call_summaries') THEN
                    -- Headquarters' own tables (the menu): never written by a box.
                    ordinal := position;
                    outcome := 'rejected';
                    current_version := (change ->> 'version')::bigint;
                    RETURN NEXT;
                ELSIF change ->> 'operation' IN ('erase', 'delete') THEN
                    PERFORM sync_erase(p_site, change ->> 'table', change ->> 'row_id', (change ->> 'version')::bigint,
                        (change ->> 'changed_at')::bigint);
                    ordinal := position;
                    outcome := 'applied';
                    current_version := (change ->> 'version')::bigint;
                    RETURN NEXT;
                ELSE
                    SELECT * INTO result FROM sync_apply(p_site, change ->> 'table', change ->> 'row_id',
                        (change ->> 'version')::bigint, (change ->> 'changed_at')::bigint, change -> 'row', 'box');
                    ordinal := position;
                    outcome := result.outcome;
                    current_version := result.current_version;
                    RETURN NEXT;
                END IF;
            END LOOP;
        END
        $$
        """#,
    ]

    /// Recording files: an upload per recording, its parts staged in PostgreSQL until the whole file
    /// is verified and stored (so any replica can take the next part), and the erasure of a recording
    /// marking its stored file for deletion.
    private static let v3: [String] = [
        #"""
            CREATE TABLE recording_uploads (
                site_id text NOT NULL REFERENCES sites (id),
                recording_id text NOT NULL,
                size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
                sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
                received_bytes bigint NOT NULL DEFAULT 0 CHECK (received_bytes BETWEEN 0 AND size_bytes),
                opened_at timestamptz NOT NULL DEFAULT now(),
                stored_at timestamptz,
                -- Where the file is: a path under the folder, or s3://bucket/key.
                location text,
                -- Set when the recording is erased; the stored file is then deleted and deleted_at set.
                erased_at timestamptz,
                deleted_at timestamptz,
                PRIMARY KEY (site_id, recording_id)
            )
        """#,
        #"""
            CREATE TABLE recording_upload_parts (
                site_id text NOT NULL,
                recording_id text NOT NULL,
                offset_bytes bigint NOT NULL CHECK (offset_bytes >= 0),
                data bytea NOT NULL,
                PRIMARY KEY (site_id, recording_id, offset_bytes),
                FOREIGN KEY (site_id, recording_id) REFERENCES recording_uploads ON DELETE CASCADE
            )
        """#,
        #"""
            CREATE INDEX recording_uploads_to_delete ON recording_uploads (site_id)
                WHERE erased_at IS NOT NULL AND deleted_at IS NULL
        """#,
        #"""
            -- An erased recording: its staged parts go at once, its stored file is marked for deletion.
            CREATE FUNCTION recording_erased() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.table_name = 'recordings' THEN
                    DELETE FROM recording_upload_parts WHERE site_id = NEW.site_id AND recording_id = NEW.row_id;
                    UPDATE recording_uploads SET erased_at = coalesce(erased_at, now()), received_bytes = 0
                        WHERE site_id = NEW.site_id AND recording_id = NEW.row_id;
                END IF;
                RETURN NEW;
            END
            $$
        """#,
        #"""
            CREATE TRIGGER recording_erased AFTER INSERT OR UPDATE ON erasures
                FOR EACH ROW EXECUTE FUNCTION recording_erased()
        """#,
    ]

    /// Moments when more guests hold seats than the site's `seats_per_slot` (its settings at
    /// headquarters), kept for staff; rechecked by triggers whenever a reservation or the settings
    /// change, from a box or at headquarters. Never resolved by dropping a booking.
    private static let v4: [String] = [
        #"""
            CREATE TABLE overbooked_slots (
                site_id text NOT NULL REFERENCES sites (id),
                moment bigint NOT NULL,
                seats_held integer NOT NULL,
                seats integer NOT NULL,
                reservation_ids text[] NOT NULL,
                detected_at timestamptz NOT NULL DEFAULT now(),
                resolved_at timestamptz,
                PRIMARY KEY (site_id, moment)
            )
        """#,
        #"""
            -- Rechecks the arrivals in [p_from, p_to) of a site: the seats held at each (every party
            -- seated then) against the seats. A site without seats in its settings is not judged.
            CREATE FUNCTION flag_overbooking(p_site text, p_from bigint, p_to bigint) RETURNS integer
            LANGUAGE plpgsql AS $$
            DECLARE
                capacity integer;
                flagged integer;
            BEGIN
                SELECT (row ->> 'seats_per_slot')::integer INTO capacity FROM site_settings
                    WHERE site_id = p_site AND id = 'site';
                IF capacity IS NULL THEN
                    RETURN 0;
                END IF;
                WITH held AS (
                    SELECT id, starts_at, party_size,
                        starts_at + coalesce((row ->> 'duration_minutes')::bigint, 90) * 60000 AS ends_at
                    FROM reservations
                    WHERE site_id = p_site AND status IN ('confirmed', 'seated')
                        AND starts_at < p_to AND starts_at > p_from - 43200000
                ), peaks AS (
                    SELECT m.starts_at AS moment, sum(h.party_size)::integer AS seats_held,
                        array_agg(h.id ORDER BY h.id) AS ids
                    FROM (SELECT DISTINCT starts_at FROM held WHERE starts_at >= p_from) m
                    JOIN held h ON h.starts_at <= m.starts_at AND h.ends_at > m.starts_at
                    GROUP BY m.starts_at
                ), over AS (
                    SELECT * FROM peaks WHERE seats_held > capacity
                ), resolved AS (
                    UPDATE overbooked_slots o SET resolved_at = now()
                    WHERE o.site_id = p_site AND o.resolved_at IS NULL AND o.moment >= p_from AND o.moment < p_to
                        AND NOT EXISTS (SELECT 1 FROM over WHERE over.moment = o.moment)
                )
                INSERT INTO overbooked_slots (site_id, moment, seats_held, seats, reservation_ids)
                    SELECT p_site, moment, seats_held, capacity, ids FROM over
                ON CONFLICT (site_id, moment) DO UPDATE SET seats_held = EXCLUDED.seats_held,
                    seats = EXCLUDED.seats, reservation_ids = EXCLUDED.reservation_ids, resolved_at = NULL,
                    detected_at = CASE WHEN overbooked_slots.resolved_at IS NULL
                        THEN overbooked_slots.detected_at ELSE now() END;
                GET DIAGNOSTICS flagged = ROW_COUNT;
                RETURN flagged;
            END
            $$
        """#,
        #"""
            CREATE FUNCTION reservation_changed() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') THEN
                    PERFORM flag_overbooking(OLD.site_id, OLD.starts_at - 43200000, OLD.starts_at + 43200000);
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    PERFORM flag_overbooking(NEW.site_id, NEW.starts_at - 43200000, NEW.starts_at + 43200000);
                END IF;
                RETURN NULL;
            END
            $$
        """#,
        #"""
            CREATE TRIGGER reservation_changed AFTER INSERT OR UPDATE OR DELETE ON reservations
                FOR EACH ROW EXECUTE FUNCTION reservation_changed()
        """#,
        #"""
            -- New settings (fewer seats) can overbook bookings already taken: the coming year is rechecked.
            CREATE FUNCTION site_settings_changed() RETURNS trigger
            LANGUAGE plpgsql AS $$
            DECLARE
                now_ms bigint := (extract(epoch FROM now()) * 1000)::bigint;
            BEGIN
                PERFORM flag_overbooking(NEW.site_id, now_ms - 43200000, now_ms + 400 * 86400000::bigint);
                RETURN NULL;
            END
            $$
        """#,
        #"""
            CREATE TRIGGER site_settings_changed AFTER INSERT OR UPDATE ON site_settings
                FOR EACH ROW EXECUTE FUNCTION site_settings_changed()
        """#,
    ]

    /// The site's Twilio account (the auth token sealed with `EDGE_HQ_SECRETS_KEY`), the calls Twilio
    /// sent to headquarters' fallback URL while the box could not answer, and the voicemails they left,
    /// which travel down to the box like the other tables headquarters writes.
    private static let v5: [String] = [
        #"""
            CREATE TABLE site_twilio (
                site_id text PRIMARY KEY REFERENCES sites (id),
                account_sid text NOT NULL,
                auth_token_sealed bytea NOT NULL,
                phone_number text NOT NULL,
                landline text,
                language text NOT NULL CHECK (language IN ('en', 'es')),
                restaurant_name text NOT NULL,
                public_base text NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
        """#,
        #"""
            CREATE TABLE fallback_calls (
                site_id text NOT NULL REFERENCES sites (id),
                call_sid text NOT NULL,
                caller text,
                language text NOT NULL,
                called_at bigint NOT NULL,
                dial_status text,
                recording_sid text,
                recording_url text,
                recording_seconds integer,
                import_status text NOT NULL DEFAULT 'none'
                    CHECK (import_status IN ('none', 'pending', 'imported', 'failed')),
                import_attempts integer NOT NULL DEFAULT 0,
                last_error text,
                imported_at timestamptz,
                PRIMARY KEY (site_id, call_sid)
            )
        """#,
        #"""
            CREATE INDEX fallback_calls_pending ON fallback_calls (import_status) WHERE import_status = 'pending'
        """#,
        #"""
            CREATE TABLE voicemails (
                site_id text NOT NULL REFERENCES sites (id),
                id text NOT NULL,
                version bigint NOT NULL CHECK (version >= 1),
                changed_at bigint NOT NULL,
                origin text NOT NULL CHECK (origin IN ('box', 'hq')),
                received_at timestamptz NOT NULL DEFAULT now(),
                row jsonb NOT NULL,
                seq bigint,
                storage_key text NOT NULL,
                PRIMARY KEY (site_id, id)
            )
        """#,
        #"""
            CREATE INDEX voicemails_by_seq ON voicemails (site_id, seq) WHERE seq IS NOT NULL
        """#,
    ]

    private static let v6: [String] = [
        #"""
            -- When an upload last advanced: one idle for days is abandoned, one still arriving is not.
            ALTER TABLE recording_uploads ADD COLUMN last_part_at timestamptz
        """#,
        #"""
            -- Days a site's recordings are kept here; NULL is EDGE_HQ_RECORDING_RETENTION_DAYS.
            ALTER TABLE sites ADD COLUMN recording_retention_days integer
                CHECK (recording_retention_days BETWEEN 1 AND 3650)
        """#,
    ]
}
