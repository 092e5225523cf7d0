import { type Kysely, sql } from 'kysely';

/*
 * When a webhook last raised a connection's partial-sync trigger. A sync consumes the trigger when it finishes, but
 * only if the trigger is older than the run's start: one raised while the run was already past its listing (the
 * queue drops the new job then, since the user's job is still active) must survive for the next sync.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE connections ADD COLUMN trigger_partial_sync_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE connections DROP COLUMN trigger_partial_sync_at`.execute(db);
}
