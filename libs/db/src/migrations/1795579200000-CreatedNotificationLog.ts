import { type Kysely, sql } from 'kysely';

/*
 * Blocking-error notifications. notification_log holds one row per user × error group × channel while the group is
 * open: the unique key turns "notify at most once per group" into an INSERT … ON CONFLICT that two workers cannot
 * both win. Rows of resolved groups are deleted, so a recurrence notifies again. The webhook signing secret lives in
 * its own table (not in users.settings) so that reading or exporting settings never carries it, and it is encrypted
 * with the same keyring as service credentials.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE notification_log (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      group_key text NOT NULL CHECK (length(group_key) BETWEEN 1 AND 200),
      channel text NOT NULL CHECK (channel IN ('email', 'webhook')),
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
      attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz,
      CONSTRAINT notification_log_group_key UNIQUE (user_id, group_key, channel),
      CHECK ((status = 'sent') = (sent_at IS NOT NULL))
    );

    CREATE TABLE notification_secrets (
      user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
      secret_ciphertext text NOT NULL,
      key_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE notification_secrets;
    DROP TABLE notification_log;
  `.execute(db);
}
