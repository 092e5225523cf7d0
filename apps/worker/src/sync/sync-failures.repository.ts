import { type Kysely } from 'kysely';
import { type DB } from '@tributary/db';
import { type FailureRecord } from '@tributary/sync';

/** The presence reason under which a rate-limited (uncounted) wait is stored. */
export const RATE_LIMITED_REASON = 'rate_limited';

/**
 * Reads the per-destination failure state the planner needs (count and next attempt) for all of a user's activities
 * in one query. Download failures are counted against the destination they were meant for, so one record per
 * activity × destination covers both directions.
 */
export class SyncFailuresRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async listUploadFailures(userId: string): Promise<FailureRecord[]> {
    const rows = await this.db
      .selectFrom('activity_presence as p')
      .innerJoin('activity_records as r', 'r.id', 'p.record_id')
      .select(['r.uid', 'p.connection_id', 'p.failure_count', 'p.next_attempt_at', 'p.updated_at', 'p.reason_detail'])
      .where('p.user_id', '=', userId)
      .where('r.user_id', '=', userId)
      // Any state but present: a row given up on (retry_limit, now `excluded`) must keep its count, or it restarts.
      .where('p.state', '!=', 'present')
      .where((eb) => eb.or([eb('p.failure_count', '>', 0), eb('p.reason_code', '=', RATE_LIMITED_REASON)]))
      .execute();
    return rows.map((row) => {
      const record: FailureRecord = {
        activityKey: row.uid,
        connectionId: row.connection_id,
        direction: 'upload',
        count: row.failure_count,
        lastAttemptAt: new Date(row.updated_at).getTime(),
        nextAttemptAt: row.next_attempt_at === null ? 0 : new Date(row.next_attempt_at).getTime(),
      };
      if (row.reason_detail !== null) record.lastError = row.reason_detail;
      return record;
    });
  }

  /**
   * For each connection, the activity keys the hub uploaded there (or reserved, when the completion was lost): those
   * copies were made by us, so their service-side flags (e.g. Garmin's default privacy) say nothing about the user.
   */
  async listUploadedKeys(userId: string): Promise<Map<string, Set<string>>> {
    const rows = await this.db
      .selectFrom('uploaded_activities as u')
      .innerJoin('connections as c', 'c.id', 'u.connection_id')
      .select(['u.connection_id', 'u.uid'])
      .where('c.user_id', '=', userId)
      .execute();
    const out = new Map<string, Set<string>>();
    for (const row of rows) {
      let keys = out.get(row.connection_id);
      if (keys === undefined) out.set(row.connection_id, (keys = new Set()));
      keys.add(row.uid);
    }
    return out;
  }

  /** Whether a retry or an upload delay of the user's has come due: the sources must be listed to carry it out. */
  async hasDueWork(userId: string, now: Date): Promise<boolean> {
    const row = await this.db
      .selectFrom('activity_presence')
      .select('record_id')
      .where('user_id', '=', userId)
      .where('state', 'in', ['failed', 'pending'])
      .where('next_attempt_at', '<=', now)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }
}
