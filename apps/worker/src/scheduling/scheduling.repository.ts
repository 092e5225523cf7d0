import { type Kysely, sql } from 'kysely';
import { type DB } from '@tributary/db';

/**
 * The system-wide reads of the scheduler, the watchdog and the webhook follow-up that the user-scoped repositories
 * of @tributary/db do not offer.
 */
export class SchedulingRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** When each of these users last finished a sync (null = never). */
  async lastSyncTimes(userIds: readonly string[]): Promise<Map<string, Date | null>> {
    if (userIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'last_sync_at'])
      .where('id', 'in', [...userIds])
      .execute();
    return new Map(rows.map((r) => [r.id, r.last_sync_at]));
  }

  /**
   * Users whose daily exhaustive pass falls in `slot` of `slots`: those synced automatically (a next sync is
   * scheduled and automatic sync is on), spread over the day by a hash of their id so the passes never bunch up.
   */
  async findDailyPassUsers(slot: number, slots: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('users')
      .select('id')
      .where('next_sync_at', 'is not', null)
      .where(sql<boolean>`coalesce((settings->>'autoSync')::boolean, true)`)
      // hashtext is a signed int4; shifting it to non-negative before mod keeps every slot reachable.
      .where(sql<number>`mod(hashtext(id::text)::bigint + 2147483648, ${slots})`, '=', slot)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /** Whether a sync has listed the activity `remoteId` at the connection (any presence state counts as seen). */
  async isActivityListed(userId: string, connectionId: string, remoteId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('activity_presence')
      .select('record_id')
      .where('user_id', '=', userId)
      .where('connection_id', '=', connectionId)
      .where('remote_id', '=', remoteId)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }
}
