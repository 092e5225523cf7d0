import { type Kysely, sql } from 'kysely';

/*
 * Website sessions. The cookie carries a random token; only its SHA-256 is stored, so a leaked table (backup, replica)
 * cannot be replayed as cookies. user_id is null for a visitor who has not connected a service yet (the session then
 * only carries the CSRF secret and a pending OAuth state). A username/password login that stopped for a verification code
 * keeps what the second step needs in pending_login_ciphertext, encrypted with the credentials keyring, for minutes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE sessions (
      id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),
      user_id uuid REFERENCES users (id) ON DELETE CASCADE,
      csrf_secret text NOT NULL CHECK (length(csrf_secret) >= 32),
      oauth_state_hash text,
      oauth_service text,
      oauth_state_expires_at timestamptz,
      pending_login_service text,
      pending_login_ciphertext text,
      pending_login_expires_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      CHECK ((oauth_state_hash IS NULL) = (oauth_state_expires_at IS NULL)),
      CHECK ((pending_login_ciphertext IS NULL) = (pending_login_expires_at IS NULL))
    );
    CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE user_id IS NOT NULL;
    CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

    -- Connector ids use underscores (garmin_connect, local_folder); the first schema allowed only hyphens.
    ALTER TABLE connections DROP CONSTRAINT connections_service_check;
    ALTER TABLE connections ADD CONSTRAINT connections_service_check CHECK (service ~ '^[a-z][a-z0-9_-]*$');
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE sessions;
    ALTER TABLE connections DROP CONSTRAINT connections_service_check;
    ALTER TABLE connections ADD CONSTRAINT connections_service_check CHECK (service ~ '^[a-z][a-z0-9-]*$');
  `.execute(db);
}
