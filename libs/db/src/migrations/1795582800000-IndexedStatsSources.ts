import { type Kysely, sql } from 'kysely';

/*
 * Indexes for the stats job, whose queries are system-wide:
 * - activities synced in the last hour / day read completed uploads by upload time;
 * - users with blocking errors read only the open blocking ones, a small slice of sync_errors;
 * - pruning old samples deletes by time across every metric, which the (metric, ts) key cannot lead with.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX uploaded_activities_uploaded_at_idx ON uploaded_activities (uploaded_at) WHERE state = 'uploaded';
    CREATE INDEX sync_errors_open_blocking_idx ON sync_errors (user_id) WHERE blocking AND cleared_at IS NULL;
    CREATE INDEX stats_samples_ts_idx ON stats_samples (ts);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX stats_samples_ts_idx;
    DROP INDEX sync_errors_open_blocking_idx;
    DROP INDEX uploaded_activities_uploaded_at_idx;
  `.execute(db);
}
