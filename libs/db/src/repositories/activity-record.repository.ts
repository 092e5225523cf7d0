import { type Kysely, sql } from 'kysely';
import { NotFoundError } from '@tributary/common';
import { type ActivityPresenceRow, type ActivityRecordRow, type DB, type PresenceState } from '../schema';
import { isForeignKeyViolation, isUuid } from './pg-errors.util';

export interface ActivityRecordInput {
  uid: string;
  /** Other UIDs this activity is known under; `uid` is always included. */
  uids?: string[];
  externalIds?: string[];
  startAt: Date;
  endAt?: Date | null;
  timezone?: string | null;
  type: string;
  name?: string | null;
  distance?: number | null;
  private?: boolean;
  stationary?: boolean | null;
  summary?: Record<string, unknown>;
}

export interface PresenceInput {
  state: PresenceState;
  remoteId?: string | null;
  reasonCode?: string | null;
  reasonDetail?: string | null;
  nextAttemptAt?: Date | null;
  uploadedAt?: Date | null;
}

/** One row per activity per user, and where each activity stands at each of the user's connections. */
export class ActivityRecordRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Inserts or merges by (user, uid): the UID and external-id sets grow (union), descriptive fields take the new
   * values. One statement; two workers merging at once cannot lose a UID.
   *
   * A row whose merge would change nothing is not written at all (every sync upserts every listed activity, and
   * rewriting unchanged rows is most of a quiet sync's database load), unless `markSeen` asks for `seen_at` to be
   * stamped: an exhaustive sync must mark what it saw, since it then deletes the records it did not see. Left out,
   * `markSeen` is true, so a caller that does not know about this still gets every record stamped.
   */
  async upsert(
    userId: string,
    input: ActivityRecordInput,
    opts: { markSeen?: boolean } = {},
  ): Promise<ActivityRecordRow> {
    const uids = [...new Set([input.uid, ...(input.uids ?? [])])];
    const externalIds = [...new Set(input.externalIds ?? [])];
    const markSeen = opts.markSeen ?? true;
    const row = await this.db
      .insertInto('activity_records')
      .values({
        user_id: userId,
        uid: input.uid,
        uids,
        external_ids: externalIds,
        start_at: input.startAt,
        end_at: input.endAt ?? null,
        timezone: input.timezone ?? null,
        type: input.type,
        name: input.name ?? null,
        distance: input.distance ?? null,
        private: input.private ?? false,
        stationary: input.stationary ?? null,
        summary: input.summary ?? {},
      })
      .onConflict((oc) =>
        oc
          .constraint('activity_records_user_uid_key')
          .doUpdateSet((eb) => ({
            uids: sql<
              string[]
            >`ARRAY(SELECT DISTINCT u FROM unnest(activity_records.uids || excluded.uids) AS u ORDER BY u)`,
            external_ids: sql<
              string[]
            >`ARRAY(SELECT DISTINCT e FROM unnest(activity_records.external_ids || excluded.external_ids) AS e ORDER BY e)`,
            start_at: eb.ref('excluded.start_at'),
            end_at: eb.fn.coalesce('excluded.end_at', 'activity_records.end_at'),
            timezone: eb.fn.coalesce('excluded.timezone', 'activity_records.timezone'),
            type: eb.ref('excluded.type'),
            name: eb.fn.coalesce('excluded.name', 'activity_records.name'),
            distance: eb.fn.coalesce('excluded.distance', 'activity_records.distance'),
            private: sql<boolean>`activity_records.private OR excluded.private`,
            stationary: eb.fn.coalesce('excluded.stationary', 'activity_records.stationary'),
            summary: sql`activity_records.summary || excluded.summary`,
            seen_at: sql<Date>`now()`,
            updated_at: sql<Date>`now()`,
          }))
          // Each condition mirrors one assignment above: true exactly when that assignment changes the column.
          .where(
            sql<boolean>`${markSeen}::boolean
              OR NOT (activity_records.uids @> excluded.uids)
              OR NOT (activity_records.external_ids @> excluded.external_ids)
              OR activity_records.start_at IS DISTINCT FROM excluded.start_at
              OR (excluded.end_at IS NOT NULL AND excluded.end_at IS DISTINCT FROM activity_records.end_at)
              OR (excluded.timezone IS NOT NULL AND excluded.timezone IS DISTINCT FROM activity_records.timezone)
              OR activity_records.type IS DISTINCT FROM excluded.type
              OR (excluded.name IS NOT NULL AND excluded.name IS DISTINCT FROM activity_records.name)
              OR (excluded.distance IS NOT NULL AND excluded.distance IS DISTINCT FROM activity_records.distance)
              OR (excluded.private AND NOT activity_records.private)
              OR (excluded.stationary IS NOT NULL AND excluded.stationary IS DISTINCT FROM activity_records.stationary)
              OR (activity_records.summary || excluded.summary) IS DISTINCT FROM activity_records.summary`,
          ),
      )
      .returningAll()
      .executeTakeFirst();
    if (row !== undefined) return row;
    // Nothing to change: the row as it stands.
    const existing = await this.db
      .selectFrom('activity_records')
      .selectAll()
      .where('user_id', '=', userId)
      .where('uid', '=', input.uid)
      .executeTakeFirst();
    if (existing === undefined) throw new NotFoundError('activity record', input.uid);
    return existing;
  }

  async findById(userId: string, recordId: string): Promise<ActivityRecordRow | undefined> {
    if (!isUuid(recordId)) return undefined;
    return this.db
      .selectFrom('activity_records')
      .selectAll()
      .where('user_id', '=', userId)
      .where('id', '=', recordId)
      .executeTakeFirst();
  }

  /** Finds the record known under `uid`, as its primary UID or as any merged one. */
  async findByUid(userId: string, uid: string): Promise<ActivityRecordRow | undefined> {
    return this.db
      .selectFrom('activity_records')
      .selectAll()
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('uid', '=', uid), eb('uids', '@>', sql<string[]>`ARRAY[${uid}]::text[]`)]))
      .orderBy('created_at')
      .executeTakeFirst();
  }

  /** Newest first; `before` pages by start time. */
  async listForUser(userId: string, opts: { limit?: number; before?: Date } = {}): Promise<ActivityRecordRow[]> {
    let q = this.db.selectFrom('activity_records').selectAll().where('user_id', '=', userId);
    if (opts.before) q = q.where('start_at', '<', opts.before);
    return q
      .orderBy('start_at', 'desc')
      .limit(opts.limit ?? 50)
      .execute();
  }

  /** After an exhaustive sync: records no listing saw since `since` no longer exist anywhere. */
  async deleteUnseenSince(userId: string, since: Date): Promise<number> {
    const res = await this.db
      .deleteFrom('activity_records')
      .where('user_id', '=', userId)
      .where('seen_at', '<', since)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async delete(userId: string, recordId: string): Promise<boolean> {
    if (!isUuid(recordId)) return false;
    const res = await this.db
      .deleteFrom('activity_records')
      .where('user_id', '=', userId)
      .where('id', '=', recordId)
      .executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  /**
   * Sets the record's state at a connection. The composite foreign keys reject a record or connection of another
   * user, which surfaces as NotFoundError. Failure counts survive state changes; a `present` state resets them.
   */
  async setPresence(
    userId: string,
    recordId: string,
    connectionId: string,
    input: PresenceInput,
  ): Promise<ActivityPresenceRow> {
    if (!isUuid(recordId) || !isUuid(connectionId)) throw new NotFoundError('activity or connection');
    try {
      const row = await this.db
        .insertInto('activity_presence')
        .values({
          record_id: recordId,
          connection_id: connectionId,
          user_id: userId,
          state: input.state,
          remote_id: input.remoteId ?? null,
          reason_code: input.reasonCode ?? null,
          reason_detail: input.reasonDetail ?? null,
          next_attempt_at: input.nextAttemptAt ?? null,
          uploaded_at: input.uploadedAt ?? null,
        })
        .onConflict((oc) =>
          oc
            .columns(['record_id', 'connection_id'])
            .doUpdateSet((eb) => ({
              state: eb.ref('excluded.state'),
              remote_id: eb.fn.coalesce('excluded.remote_id', 'activity_presence.remote_id'),
              reason_code: eb.ref('excluded.reason_code'),
              reason_detail: eb.ref('excluded.reason_detail'),
              next_attempt_at: eb.ref('excluded.next_attempt_at'),
              uploaded_at: eb.fn.coalesce('excluded.uploaded_at', 'activity_presence.uploaded_at'),
              failure_count: sql<number>`CASE WHEN excluded.state = 'present' THEN 0 ELSE activity_presence.failure_count END`,
              updated_at: sql<Date>`now()`,
            }))
            .where('activity_presence.user_id', '=', userId)
            // Every sync restates each activity's presence; an unchanged one is not rewritten (updated_at stays).
            .where(
              sql<boolean>`(activity_presence.state IS DISTINCT FROM excluded.state
                OR (excluded.remote_id IS NOT NULL AND excluded.remote_id IS DISTINCT FROM activity_presence.remote_id)
                OR activity_presence.reason_code IS DISTINCT FROM excluded.reason_code
                OR activity_presence.reason_detail IS DISTINCT FROM excluded.reason_detail
                OR activity_presence.next_attempt_at IS DISTINCT FROM excluded.next_attempt_at
                OR (excluded.uploaded_at IS NOT NULL
                  AND excluded.uploaded_at IS DISTINCT FROM activity_presence.uploaded_at)
                OR (excluded.state = 'present' AND activity_presence.failure_count <> 0))`,
            ),
        )
        .returningAll()
        .executeTakeFirst();
      if (row !== undefined) return row;
      // Unchanged, or the conflicting row is another user's (then not found: the composite keys keep them apart).
      const existing = await this.db
        .selectFrom('activity_presence')
        .selectAll()
        .where('user_id', '=', userId)
        .where('record_id', '=', recordId)
        .where('connection_id', '=', connectionId)
        .executeTakeFirst();
      if (existing === undefined) throw new NotFoundError('activity presence');
      return existing;
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError('activity or connection');
      throw err;
    }
  }

  /** Counts one more failed attempt atomically and marks the presence `failed`; returns the new count. */
  async recordFailure(
    userId: string,
    recordId: string,
    connectionId: string,
    failure: { reasonCode: string; reasonDetail?: string | null; nextAttemptAt?: Date | null },
  ): Promise<number> {
    if (!isUuid(recordId) || !isUuid(connectionId)) throw new NotFoundError('activity or connection');
    try {
      const row = await this.db
        .insertInto('activity_presence')
        .values({
          record_id: recordId,
          connection_id: connectionId,
          user_id: userId,
          state: 'failed',
          reason_code: failure.reasonCode,
          reason_detail: failure.reasonDetail ?? null,
          next_attempt_at: failure.nextAttemptAt ?? null,
          failure_count: 1,
        })
        .onConflict((oc) =>
          oc
            .columns(['record_id', 'connection_id'])
            .doUpdateSet((eb) => ({
              state: 'failed' as const,
              reason_code: eb.ref('excluded.reason_code'),
              reason_detail: eb.ref('excluded.reason_detail'),
              next_attempt_at: eb.ref('excluded.next_attempt_at'),
              failure_count: sql<number>`activity_presence.failure_count + 1`,
              updated_at: sql<Date>`now()`,
            }))
            .where('activity_presence.user_id', '=', userId),
        )
        .returning('failure_count')
        .executeTakeFirstOrThrow(() => new NotFoundError('activity presence'));
      return row.failure_count;
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError('activity or connection');
      throw err;
    }
  }

  /**
   * The zone the hub already settled for copies it has seen before, keyed `<connectionId> <remoteId>`. A listing
   * without a zone (Garmin's UTC times, files) would otherwise be downloaded again on every sync just to find the zone
   * its file implies.
   */
  async knownZones(
    userId: string,
    copies: readonly { connectionId: string; remoteId: string }[],
  ): Promise<Map<string, string>> {
    const zones = new Map<string, string>();
    const connectionIds = [...new Set(copies.map((c) => c.connectionId))].filter(isUuid);
    const remoteIds = [...new Set(copies.map((c) => c.remoteId))];
    if (connectionIds.length === 0 || remoteIds.length === 0) return zones;
    const wanted = new Set(copies.map((c) => `${c.connectionId} ${c.remoteId}`));
    const rows = await this.db
      .selectFrom('activity_presence as p')
      .innerJoin('activity_records as r', (j) =>
        j.onRef('r.id', '=', 'p.record_id').onRef('r.user_id', '=', 'p.user_id'),
      )
      .select(['p.connection_id', 'p.remote_id', 'r.timezone'])
      .where('p.user_id', '=', userId)
      .where('p.connection_id', 'in', connectionIds)
      .where('p.remote_id', 'in', remoteIds)
      .where('r.timezone', 'is not', null)
      .execute();
    for (const row of rows) {
      const key = `${row.connection_id} ${row.remote_id ?? ''}`;
      if (row.timezone !== null && wanted.has(key)) zones.set(key, row.timezone);
    }
    return zones;
  }

  async listPresence(userId: string, recordId: string): Promise<ActivityPresenceRow[]> {
    if (!isUuid(recordId)) return [];
    return this.db
      .selectFrom('activity_presence')
      .selectAll()
      .where('user_id', '=', userId)
      .where('record_id', '=', recordId)
      .orderBy('connection_id')
      .execute();
  }
}
