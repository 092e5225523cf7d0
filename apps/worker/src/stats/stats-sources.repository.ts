import { type Kysely, sql } from 'kysely';
import { type DB } from '@tributary/db';

/** The windows "activities synced" and "distance synced" are reported over; `total` is all time. */
export const SYNC_WINDOWS = [
  { label: '1h', ms: 60 * 60_000 },
  { label: '24h', ms: 24 * 60 * 60_000 },
] as const;

export interface WindowTotals {
  /** Keyed by window label (`1h`, `24h`) and `total`. */
  activities: Record<string, number>;
  /** Metres. */
  distance: Record<string, number>;
}

export interface SyncedTotals {
  /** Distinct activities of which at least one copy was made in the window, and their distance. */
  overall: WindowTotals;
  /** Copies made at each destination service (an activity sent to two services counts at each). */
  byService: Map<string, WindowTotals>;
}

export interface SyncDurations {
  /** Runs that finished in the window after starting. */
  finished: number;
  /** Quantile (0.5, 0.95, 0.99) → milliseconds; empty when no run finished. */
  quantiles: Map<number, number>;
  byStatus: Map<string, number>;
}

export interface ErrorGroup {
  /** The connection's service, or `account` for errors about the whole account. */
  service: string;
  code: string;
  /** Open error rows (one per user × connection × activity). */
  errors: number;
  users: number;
}

export const DURATION_QUANTILES = [0.5, 0.95, 0.99] as const;

/** What open errors that do not concern one connection are grouped under. */
export const ACCOUNT_SCOPE = 'account';

/** `strava` and `garmin_connect`, not whatever spelling an old row used. */
const SERVICE = sql<string>`replace(c.service, '-', '_')`;
/** Literal, not a parameter: GROUP BY and PARTITION BY must see the very same expression as the select list. */
const SERVICE_OR_ACCOUNT = sql<string>`coalesce(${SERVICE}, ${sql.lit(ACCOUNT_SCOPE)})`;

/**
 * The system-wide reads of the stats job. Every figure is computed by the database in one statement each, so the
 * job's cost does not grow with the number of users in Node.
 */
export class StatsSourcesRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Completed uploads (the idempotency ledger, so a re-run that found an upload already done is not counted twice),
   * over the last hour, the last day and all time. An upload whose activity record is gone still counts as an
   * activity but adds no distance.
   */
  async syncedTotals(now: Date): Promise<SyncedTotals> {
    const hour = new Date(now.getTime() - SYNC_WINDOWS[0].ms);
    const day = new Date(now.getTime() - SYNC_WINDOWS[1].ms);
    interface Row {
      service: string | null;
      a1h: string;
      a24h: string;
      atotal: string;
      d1h: number | null;
      d24h: number | null;
      dtotal: number | null;
    }
    const { rows } = await sql<Row>`
      WITH uploads AS (
        SELECT c.user_id, ${SERVICE} AS service, u.uid, u.uploaded_at, r.distance
        FROM uploaded_activities u
        JOIN connections c ON c.id = u.connection_id
        LEFT JOIN activity_records r ON r.id = u.record_id
        WHERE u.state = 'uploaded' AND u.uploaded_at <= ${now}
      ), activities AS (
        SELECT user_id, uid, max(uploaded_at) AS uploaded_at, max(distance) AS distance
        FROM uploads GROUP BY user_id, uid
      )
      SELECT service,
        count(*) FILTER (WHERE uploaded_at > ${hour}) AS a1h,
        count(*) FILTER (WHERE uploaded_at > ${day}) AS a24h,
        count(*) AS atotal,
        sum(distance) FILTER (WHERE uploaded_at > ${hour}) AS d1h,
        sum(distance) FILTER (WHERE uploaded_at > ${day}) AS d24h,
        sum(distance) AS dtotal
      FROM uploads GROUP BY service
      UNION ALL
      SELECT NULL,
        count(*) FILTER (WHERE uploaded_at > ${hour}),
        count(*) FILTER (WHERE uploaded_at > ${day}),
        count(*),
        sum(distance) FILTER (WHERE uploaded_at > ${hour}),
        sum(distance) FILTER (WHERE uploaded_at > ${day}),
        sum(distance)
      FROM activities
    `.execute(this.db);
    const totals = (r: Row): WindowTotals => ({
      activities: { '1h': Number(r.a1h), '24h': Number(r.a24h), total: Number(r.atotal) },
      distance: { '1h': Number(r.d1h ?? 0), '24h': Number(r.d24h ?? 0), total: Number(r.dtotal ?? 0) },
    });
    const overallRow = rows.find((r) => r.service === null);
    const byService = new Map<string, WindowTotals>();
    for (const row of rows) if (row.service !== null) byService.set(row.service, totals(row));
    return {
      overall: overallRow === undefined ? totals({ ...zeroRow, service: null }) : totals(overallRow),
      byService,
    };
  }

  /** Wall-clock duration of the syncs that finished in the window, as quantiles, and how the runs ended. */
  async syncDurations(now: Date, windowMs: number): Promise<SyncDurations> {
    const since = new Date(now.getTime() - windowMs);
    const quantiles = [...DURATION_QUANTILES];
    const { rows } = await sql<{ n: string; q: number[] | null }>`
      SELECT count(*) AS n,
        percentile_cont(${quantiles}::float8[]) WITHIN GROUP (
          ORDER BY extract(epoch FROM finished_at - started_at) * 1000
        ) AS q
      FROM sync_runs
      WHERE finished_at > ${since} AND finished_at <= ${now} AND started_at IS NOT NULL
    `.execute(this.db);
    const statuses = await this.db
      .selectFrom('sync_runs')
      .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
      .where('finished_at', '>', since)
      .where('finished_at', '<=', now)
      .groupBy('status')
      .execute();
    const finished = Number(rows[0]?.n ?? 0);
    const values = rows[0]?.q ?? [];
    return {
      finished,
      quantiles: new Map(finished === 0 ? [] : quantiles.map((q, i) => [q, Number(values[i] ?? 0)])),
      byStatus: new Map(statuses.map((s) => [s.status, Number(s.n)])),
    };
  }

  /** Users with at least one open blocking error: in total (`all`) and per service the errors concern. */
  async usersWithBlockingErrors(): Promise<Map<string, number>> {
    const { rows } = await sql<{ service: string | null; users: string }>`
      SELECT ${SERVICE_OR_ACCOUNT} AS service, count(DISTINCT e.user_id) AS users
      FROM sync_errors e LEFT JOIN connections c ON c.id = e.connection_id
      WHERE e.blocking AND e.cleared_at IS NULL
      GROUP BY ROLLUP (${SERVICE_OR_ACCOUNT})
    `.execute(this.db);
    return new Map(rows.map((r) => [r.service ?? 'all', Number(r.users)]));
  }

  /** The `top` most common open error codes of each service, most rows first. */
  async topErrorGroups(top: number): Promise<ErrorGroup[]> {
    const { rows } = await sql<{ service: string; code: string; errors: string; users: string }>`
      SELECT service, code, errors, users FROM (
        SELECT ${SERVICE_OR_ACCOUNT} AS service, e.code,
          count(*) AS errors, count(DISTINCT e.user_id) AS users,
          row_number() OVER (
            PARTITION BY ${SERVICE_OR_ACCOUNT} ORDER BY count(*) DESC, e.code
          ) AS rank
        FROM sync_errors e LEFT JOIN connections c ON c.id = e.connection_id
        WHERE e.cleared_at IS NULL
        GROUP BY 1, 2
      ) ranked
      WHERE rank <= ${top}
      ORDER BY service, rank
    `.execute(this.db);
    return rows.map((r) => ({ service: r.service, code: r.code, errors: Number(r.errors), users: Number(r.users) }));
  }

  /** Users, and connections per service, for the stats page's headline figures. */
  async population(): Promise<{ users: number; connections: Map<string, number> }> {
    const users = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const { rows } = await sql<{ service: string; n: string }>`
      SELECT ${SERVICE} AS service, count(*) AS n FROM connections c GROUP BY 1
    `.execute(this.db);
    return { users: Number(users.n), connections: new Map(rows.map((r) => [r.service, Number(r.n)])) };
  }
}

const zeroRow = { a1h: '0', a24h: '0', atotal: '0', d1h: null, d24h: null, dtotal: null };
