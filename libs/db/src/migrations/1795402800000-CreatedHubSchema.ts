import { type Kysely, sql } from 'kysely';

/*
 * The hub's first schema. Ownership is enforced by the database, not only by the repositories: rows that pair two
 * user-owned things (presence: record + connection; flow exceptions: two connections) carry user_id and reference
 * both parents through composite (id, user_id) foreign keys, so they cannot join data of different users.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      created_at timestamptz NOT NULL DEFAULT now(),
      role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
      email text,
      password_hash text,
      settings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
      lease_owner text,
      lease_expires_at timestamptz,
      next_sync_at timestamptz,
      last_sync_at timestamptz,
      next_sync_exhaustive boolean NOT NULL DEFAULT true,
      CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL))
    );
    CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE email IS NOT NULL;
    CREATE INDEX users_next_sync_at_idx ON users (next_sync_at) WHERE next_sync_at IS NOT NULL;
    CREATE INDEX users_lease_expires_at_idx ON users (lease_expires_at) WHERE lease_expires_at IS NOT NULL;

    CREATE TABLE connections (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      service text NOT NULL CHECK (service ~ '^[a-z][a-z0-9-]*$'),
      external_user_id text NOT NULL CHECK (external_user_id <> ''),
      display_name text,
      credentials_ciphertext text,
      credentials_key_id text,
      config jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
      status text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'needs_reauth', 'disabled', 'error')),
      trigger_partial_sync boolean NOT NULL DEFAULT false,
      last_listed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT connections_service_account_key UNIQUE (service, external_user_id),
      CONSTRAINT connections_user_service_key UNIQUE (user_id, service),
      CONSTRAINT connections_id_user_key UNIQUE (id, user_id),
      CHECK ((credentials_ciphertext IS NULL) = (credentials_key_id IS NULL))
    );
    CREATE INDEX connections_credentials_key_id_idx ON connections (credentials_key_id);

    CREATE TABLE activity_records (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      uid text NOT NULL,
      uids text[] NOT NULL CHECK (uid = ANY (uids)),
      external_ids text[] NOT NULL DEFAULT '{}',
      start_at timestamptz NOT NULL,
      end_at timestamptz CHECK (end_at IS NULL OR end_at >= start_at),
      timezone text,
      type text NOT NULL,
      name text,
      distance double precision CHECK (distance IS NULL OR distance >= 0),
      private boolean NOT NULL DEFAULT false,
      stationary boolean,
      summary jsonb NOT NULL DEFAULT '{}',
      seen_at timestamptz NOT NULL DEFAULT now(),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT activity_records_user_uid_key UNIQUE (user_id, uid),
      CONSTRAINT activity_records_id_user_key UNIQUE (id, user_id)
    );
    CREATE INDEX activity_records_user_start_idx ON activity_records (user_id, start_at DESC);
    CREATE INDEX activity_records_uids_idx ON activity_records USING gin (uids);

    CREATE TABLE activity_presence (
      record_id uuid NOT NULL,
      connection_id uuid NOT NULL,
      user_id uuid NOT NULL,
      state text NOT NULL CHECK (state IN ('present', 'missing', 'pending', 'excluded', 'failed')),
      remote_id text,
      reason_code text,
      reason_detail text,
      failure_count integer NOT NULL DEFAULT 0 CHECK (failure_count >= 0),
      next_attempt_at timestamptz,
      uploaded_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (record_id, connection_id),
      FOREIGN KEY (record_id, user_id) REFERENCES activity_records (id, user_id) ON DELETE CASCADE,
      FOREIGN KEY (connection_id, user_id) REFERENCES connections (id, user_id) ON DELETE CASCADE
    );
    CREATE INDEX activity_presence_connection_idx ON activity_presence (connection_id, state);
    CREATE INDEX activity_presence_next_attempt_idx ON activity_presence (next_attempt_at)
      WHERE next_attempt_at IS NOT NULL;

    CREATE TABLE synchronized_uids (
      connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
      uid text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (connection_id, uid)
    );

    CREATE TABLE uploaded_activities (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
      uid text NOT NULL,
      record_id uuid REFERENCES activity_records (id) ON DELETE SET NULL,
      state text NOT NULL DEFAULT 'reserved' CHECK (state IN ('reserved', 'uploaded')),
      remote_id text,
      reserved_at timestamptz NOT NULL DEFAULT now(),
      uploaded_at timestamptz,
      CONSTRAINT uploaded_activities_connection_uid_key UNIQUE (connection_id, uid),
      CHECK ((state = 'uploaded') = (uploaded_at IS NOT NULL))
    );

    CREATE TABLE sync_runs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'partial', 'failed')),
      exhaustive boolean NOT NULL DEFAULT false,
      trigger text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'webhook', 'connect', 'admin', 'retry')),
      progress real NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
      phase text,
      counts jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(counts) = 'object'),
      errors jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(errors) = 'array'),
      worker_id text,
      queued_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      heartbeat_at timestamptz,
      finished_at timestamptz,
      CHECK ((status IN ('queued', 'running')) = (finished_at IS NULL))
    );
    CREATE INDEX sync_runs_user_queued_idx ON sync_runs (user_id, queued_at DESC);
    -- One queued-or-running run per user: a second "sync now" finds the first instead of queueing another.
    CREATE UNIQUE INDEX sync_runs_one_active_per_user ON sync_runs (user_id) WHERE status IN ('queued', 'running');
    CREATE INDEX sync_runs_running_heartbeat_idx ON sync_runs (heartbeat_at) WHERE status = 'running';

    CREATE TABLE sync_errors (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      connection_id uuid,
      scope text NOT NULL CHECK (scope IN ('account', 'connection', 'activity')),
      step text CHECK (step IN ('list', 'download', 'upload')),
      code text NOT NULL,
      clear_group text,
      message text NOT NULL,
      blocking boolean NOT NULL DEFAULT false,
      intervention text,
      trigger_exhaustive boolean NOT NULL DEFAULT false,
      activity_uid text,
      first_at timestamptz NOT NULL DEFAULT now(),
      last_at timestamptz NOT NULL DEFAULT now(),
      count integer NOT NULL DEFAULT 1 CHECK (count >= 1),
      cleared_at timestamptz,
      FOREIGN KEY (connection_id, user_id) REFERENCES connections (id, user_id) ON DELETE CASCADE,
      CHECK ((scope = 'activity') = (activity_uid IS NOT NULL)),
      CHECK (scope = 'account' OR connection_id IS NOT NULL),
      CONSTRAINT sync_errors_dedup_key UNIQUE NULLS NOT DISTINCT (user_id, connection_id, scope, code, activity_uid)
    );
    CREATE INDEX sync_errors_open_idx ON sync_errors (user_id) WHERE cleared_at IS NULL;

    CREATE TABLE exclusions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
      key text NOT NULL,
      permanent boolean NOT NULL DEFAULT false,
      reason text NOT NULL,
      message text,
      effective_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz,
      CONSTRAINT exclusions_connection_key_key UNIQUE (connection_id, key),
      CHECK (NOT (permanent AND expires_at IS NOT NULL))
    );

    CREATE TABLE flow_exceptions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      source_connection_id uuid NOT NULL,
      target_connection_id uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (source_connection_id, user_id) REFERENCES connections (id, user_id) ON DELETE CASCADE,
      FOREIGN KEY (target_connection_id, user_id) REFERENCES connections (id, user_id) ON DELETE CASCADE,
      -- user_id leads so that another user's insert of an existing pair reaches the foreign keys and fails there.
      CONSTRAINT flow_exceptions_pair_key UNIQUE (user_id, source_connection_id, target_connection_id),
      CHECK (source_connection_id <> target_connection_id)
    );

    CREATE TABLE stats_samples (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      metric text NOT NULL,
      ts timestamptz NOT NULL DEFAULT now(),
      value double precision NOT NULL,
      labels jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX stats_samples_metric_ts_idx ON stats_samples (metric, ts DESC);

    CREATE TABLE audit_log (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
      action text NOT NULL,
      target_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
      details jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE audit_log;
    DROP TABLE stats_samples;
    DROP TABLE flow_exceptions;
    DROP TABLE exclusions;
    DROP TABLE sync_errors;
    DROP TABLE sync_runs;
    DROP TABLE uploaded_activities;
    DROP TABLE synchronized_uids;
    DROP TABLE activity_presence;
    DROP TABLE activity_records;
    DROP TABLE connections;
    DROP TABLE users;
  `.execute(db);
}
