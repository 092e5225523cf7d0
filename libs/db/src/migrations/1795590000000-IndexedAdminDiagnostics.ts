import { type Kysely, sql } from 'kysely';

/*
 * Indexes for the admin pages, whose queries are system-wide rather than per user:
 * - the sync duration graph reads finished runs by finish time;
 * - the error groups read open errors by code across every user;
 * - "find a user by the account id at a service" has no service to lead the (service, external_user_id) key with;
 * - a user's detail page shows what administrators did to that user.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX sync_runs_finished_at_idx ON sync_runs (finished_at) WHERE finished_at IS NOT NULL;
    CREATE INDEX sync_errors_open_code_idx ON sync_errors (code) WHERE cleared_at IS NULL;
    CREATE INDEX connections_external_user_id_idx ON connections (external_user_id);
    CREATE INDEX audit_log_target_at_idx ON audit_log (target_user_id, at DESC) WHERE target_user_id IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX audit_log_target_at_idx;
    DROP INDEX connections_external_user_id_idx;
    DROP INDEX sync_errors_open_code_idx;
    DROP INDEX sync_runs_finished_at_idx;
  `.execute(db);
}
