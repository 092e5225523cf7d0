import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import { type ActivityRecordRow, type DB, type PresenceState } from '../schema';
import { isUuid } from './pg-errors.util';

/** GarminSync's list modes: everything, what still has to reach a service, what is everywhere it should be. */
export type ActivityListStatus = 'all' | 'missing' | 'synced';
export const ACTIVITY_LIST_STATUSES: readonly ActivityListStatus[] = ['all', 'missing', 'synced'];

/** A position in the list (newest first): the last row of the previous page. */
export interface ActivityCursor {
  startAt: Date;
  id: string;
}

export interface ActivityListFilter {
  /** start_at >= from */
  from?: Date;
  /** start_at < to */
  to?: Date;
  type?: string;
  /** A service id: only activities the hub has a state for at the user's connection of that service. */
  service?: string;
  status?: ActivityListStatus;
  /** Rows strictly after this one in the list order. */
  after?: ActivityCursor;
  /** 1..100, default 25. */
  limit?: number;
}

/** Where one activity stands at one connection, with the connection's service for display. */
export interface ActivityPresenceView {
  connectionId: string;
  service: string;
  state: PresenceState;
  reasonCode: string | null;
  reasonDetail: string | null;
  remoteId: string | null;
  failureCount: number;
  nextAttemptAt: Date | null;
  uploadedAt: Date | null;
  updatedAt: Date;
}

export interface ActivityListItem {
  record: ActivityRecordRow;
  presence: ActivityPresenceView[];
}

export interface ActivityPage {
  items: ActivityListItem[];
  /** Present when more rows follow. */
  next?: ActivityCursor;
}

export interface WeeklyTotal {
  /** Monday 00:00 of the week, read in the activity's own time zone and returned as that wall clock in UTC. */
  week: Date;
  type: string;
  count: number;
  /** Metres. */
  distance: number;
  /** Seconds from start to end. */
  duration: number;
}

/**
 * Skips that are not the user's choice or a service's limit but something going wrong: the activity should reach the
 * service and has not. They count as "missing" alongside the missing, pending and failed states.
 */
export const PROBLEM_SKIP_REASONS: readonly string[] = [
  'retry_limit',
  'tz_unknown',
  'no_source',
  'service_excluded',
  'config_missing',
  'sanity',
];
const WAITING_STATES: readonly PresenceState[] = ['missing', 'pending', 'failed'];

const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 100;

type PresenceEb = ExpressionBuilder<DB & { p: DB['activity_presence'] }, 'p'>;
type RecordEb = ExpressionBuilder<DB & { r: DB['activity_records'] }, 'r'>;

function needsAttention(eb: PresenceEb) {
  return eb.or([
    eb('p.state', 'in', [...WAITING_STATES]),
    eb.and([eb('p.state', '=', 'excluded'), eb('p.reason_code', 'in', [...PROBLEM_SKIP_REASONS])]),
  ]);
}

/**
 * Read side of the activities pages: filtered, keyset-paginated lists with each activity's state per connection,
 * weekly totals for the stats page, and the two user actions that reset what the hub remembers about an activity.
 * Every statement is scoped by user_id.
 */
export class ActivityQueryRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async list(userId: string, filter: ActivityListFilter = {}): Promise<ActivityPage> {
    const limit = Math.min(MAX_LIMIT, Math.max(1, Math.floor(filter.limit ?? DEFAULT_LIMIT)));
    const status = filter.status ?? 'all';
    const service = filter.service;
    let q = this.db.selectFrom('activity_records as r').selectAll('r').where('r.user_id', '=', userId);
    if (filter.from !== undefined) q = q.where('r.start_at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('r.start_at', '<', filter.to);
    if (filter.type !== undefined) q = q.where('r.type', '=', filter.type);
    // A correlated EXISTS over the activity's states at the user's connections (of one service when filtered).
    const presenceAt = (eb: RecordEb, which: 'any' | 'present' | 'attention') =>
      eb.exists(
        eb
          .selectFrom('activity_presence as p')
          .innerJoin('connections as c', (j) => j.onRef('c.id', '=', 'p.connection_id').on('c.user_id', '=', userId))
          .select('p.record_id')
          .whereRef('p.record_id', '=', 'r.id')
          .where('p.user_id', '=', userId)
          .$if(service !== undefined, (sq) => sq.where('c.service', '=', service ?? ''))
          .$if(which === 'present', (sq) => sq.where('p.state', '=', 'present'))
          .$if(which === 'attention', (sq) => sq.where((pb) => needsAttention(pb))),
      );
    if (status === 'missing') q = q.where((eb) => presenceAt(eb, 'attention'));
    else if (status === 'synced' && service !== undefined) q = q.where((eb) => presenceAt(eb, 'present'));
    else if (status === 'synced') q = q.where((eb) => eb.not(presenceAt(eb, 'attention')));
    else if (service !== undefined) q = q.where((eb) => presenceAt(eb, 'any'));
    if (filter.after !== undefined && isUuid(filter.after.id)) {
      const { startAt, id } = filter.after;
      q = q.where((eb) =>
        eb.or([eb('r.start_at', '<', startAt), eb.and([eb('r.start_at', '=', startAt), eb('r.id', '<', id)])]),
      );
    }
    const rows = await q
      .orderBy('r.start_at', 'desc')
      .orderBy('r.id', 'desc')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    const presence = await this.presenceFor(
      userId,
      page.map((r) => r.id),
    );
    const items = page.map((record) => ({ record, presence: presence.get(record.id) ?? [] }));
    const last = page[page.length - 1];
    return rows.length > limit && last !== undefined
      ? { items, next: { startAt: last.start_at, id: last.id } }
      : { items };
  }

  async get(userId: string, recordId: string): Promise<ActivityListItem | undefined> {
    if (!isUuid(recordId)) return undefined;
    const record = await this.db
      .selectFrom('activity_records')
      .selectAll()
      .where('user_id', '=', userId)
      .where('id', '=', recordId)
      .executeTakeFirst();
    if (record === undefined) return undefined;
    const presence = await this.presenceFor(userId, [record.id]);
    return { record, presence: presence.get(record.id) ?? [] };
  }

  /** The activity types the user has, for the type filter. */
  async types(userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('activity_records')
      .select('type')
      .distinct()
      .where('user_id', '=', userId)
      .orderBy('type')
      .execute();
    return rows.map((r) => r.type);
  }

  /**
   * Totals per week and type. Weeks start on Monday in the activity's own time zone (a Sunday-evening run belongs to
   * the week the athlete ran it in); an unknown or invalid zone counts as UTC.
   */
  async weeklyTotals(userId: string, range: { from: Date; to: Date }): Promise<WeeklyTotal[]> {
    const zone = sql<string>`CASE WHEN r.timezone IN (SELECT name FROM pg_timezone_names) THEN r.timezone ELSE 'UTC' END`;
    const week = sql<Date>`date_trunc('week', r.start_at AT TIME ZONE ${zone}) AT TIME ZONE 'UTC'`;
    const rows = await this.db
      .selectFrom('activity_records as r')
      .select([
        week.as('week'),
        'r.type',
        (eb) => eb.fn.countAll<string>().as('count'),
        sql<number>`coalesce(sum(r.distance), 0)::float8`.as('distance'),
        sql<number>`coalesce(sum(extract(epoch FROM (r.end_at - r.start_at))), 0)::float8`.as('duration'),
      ])
      .where('r.user_id', '=', userId)
      .where('r.start_at', '>=', range.from)
      .where('r.start_at', '<', range.to)
      .groupBy([sql`1`, 'r.type'])
      .orderBy(sql`1`)
      .orderBy('r.type')
      .execute();
    return rows.map((r) => ({
      week: new Date(r.week),
      type: r.type,
      count: Number(r.count),
      distance: Number(r.distance),
      duration: Number(r.duration),
    }));
  }

  /**
   * "Resync": forgets why the activity was held back so the next sync decides afresh. Drops its exclusions at every
   * connection of the user (keyed by any of its UIDs, external ids or remote ids), resets failure counts and retry
   * waits of every state that is not `present`, and clears its open sync errors. False when not the user's.
   */
  async resetForResync(userId: string, recordId: string): Promise<boolean> {
    if (!isUuid(recordId)) return false;
    return this.db.transaction().execute(async (trx) => {
      const record = await trx
        .selectFrom('activity_records')
        .select(['id', 'uids', 'external_ids'])
        .where('user_id', '=', userId)
        .where('id', '=', recordId)
        .forUpdate()
        .executeTakeFirst();
      if (record === undefined) return false;
      await new ActivityQueryRepository(trx).dropMemory(userId, record);
      await trx
        .updateTable('activity_presence')
        .set({
          state: 'missing',
          reason_code: 'resync_requested',
          reason_detail: null,
          failure_count: 0,
          next_attempt_at: null,
          updated_at: sql<Date>`now()`,
        })
        .where('user_id', '=', userId)
        .where('record_id', '=', recordId)
        .where('state', '!=', 'present')
        .execute();
      return true;
    });
  }

  /**
   * "Forget": deletes the record (and with it its states per connection and stored file) plus its exclusions and open
   * sync errors, so the next listing creates it anew. Which services already have it is kept (synchronized UIDs and
   * the upload ledger), so forgetting never re-sends a copy a service already got. False when not the user's.
   */
  async forget(userId: string, recordId: string): Promise<boolean> {
    if (!isUuid(recordId)) return false;
    return this.db.transaction().execute(async (trx) => {
      const record = await trx
        .selectFrom('activity_records')
        .select(['id', 'uids', 'external_ids'])
        .where('user_id', '=', userId)
        .where('id', '=', recordId)
        .forUpdate()
        .executeTakeFirst();
      if (record === undefined) return false;
      await new ActivityQueryRepository(trx).dropMemory(userId, record);
      await trx.deleteFrom('activity_records').where('user_id', '=', userId).where('id', '=', recordId).execute();
      return true;
    });
  }

  private async dropMemory(
    userId: string,
    record: { id: string; uids: string[]; external_ids: string[] },
  ): Promise<void> {
    const keys = [...new Set([...record.uids, ...record.external_ids])];
    const remote = await this.db
      .selectFrom('activity_presence')
      .select(['connection_id', 'remote_id'])
      .where('user_id', '=', userId)
      .where('record_id', '=', record.id)
      .where('remote_id', 'is not', null)
      .execute();
    await this.db
      .deleteFrom('exclusions')
      .where('connection_id', 'in', this.db.selectFrom('connections').select('id').where('user_id', '=', userId))
      .where((eb) =>
        eb.or([
          eb('key', '=', sql<string>`ANY(${sql.val(keys)}::text[])`),
          ...remote.map((p) => eb.and([eb('connection_id', '=', p.connection_id), eb('key', '=', p.remote_id ?? '')])),
        ]),
      )
      .execute();
    await this.db
      .updateTable('sync_errors')
      .set({ cleared_at: sql<Date>`now()` })
      .where('user_id', '=', userId)
      .where('scope', '=', 'activity')
      .where('cleared_at', 'is', null)
      .where('activity_uid', '=', sql<string>`ANY(${sql.val(keys)}::text[])`)
      .execute();
  }

  private async presenceFor(userId: string, recordIds: string[]): Promise<Map<string, ActivityPresenceView[]>> {
    const out = new Map<string, ActivityPresenceView[]>();
    if (recordIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('activity_presence as p')
      .innerJoin('connections as c', (j) => j.onRef('c.id', '=', 'p.connection_id').on('c.user_id', '=', userId))
      .select([
        'p.record_id',
        'p.connection_id',
        'c.service',
        'p.state',
        'p.reason_code',
        'p.reason_detail',
        'p.remote_id',
        'p.failure_count',
        'p.next_attempt_at',
        'p.uploaded_at',
        'p.updated_at',
      ])
      .where('p.user_id', '=', userId)
      .where('p.record_id', 'in', recordIds)
      .orderBy('c.service')
      .execute();
    for (const r of rows) {
      let list = out.get(r.record_id);
      if (list === undefined) out.set(r.record_id, (list = []));
      list.push({
        connectionId: r.connection_id,
        service: r.service,
        state: r.state,
        reasonCode: r.reason_code,
        reasonDetail: r.reason_detail,
        remoteId: r.remote_id,
        failureCount: r.failure_count,
        nextAttemptAt: r.next_attempt_at,
        uploadedAt: r.uploaded_at,
        updatedAt: r.updated_at,
      });
    }
    return out;
  }
}
