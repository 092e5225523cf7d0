import { type Kysely, sql } from 'kysely';
import { ValidationError } from '@tributary/common';
import { type DB, type StatsSampleRow } from '../schema';

export interface StatsSampleInput {
  metric: string;
  value: number;
  labels?: Record<string, string>;
}

/** One point of a series, as the website, admin pages and metrics exporter use it. */
export interface StatsPoint {
  metric: string;
  ts: Date;
  value: number;
  labels: Record<string, string>;
}

export interface StatsSnapshot {
  /** When the newest sample of any metric was taken; null when there are none. */
  at: Date | null;
  /**
   * For each metric, every sample of its newest batch (one stats run writes one batch, all at one ts). A metric the
   * last run did not write (sync durations in an hour without finished syncs) keeps its older batch: compare `ts`
   * with `at` to tell.
   */
  samples: StatsPoint[];
}

/** Points returned by a series unless asked otherwise: a month of 10-minute samples. */
const DEFAULT_SERIES_LIMIT = 5000;

function toPoint(row: Pick<StatsSampleRow, 'metric' | 'ts' | 'value' | 'labels'>): StatsPoint {
  return { metric: row.metric, ts: new Date(row.ts), value: Number(row.value), labels: row.labels };
}

/** System-wide time series for the stats page, the admin pages and /metrics; no user data. */
export class StatsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async record(metric: string, value: number, labels: Record<string, string> = {}, ts?: Date): Promise<void> {
    await this.recordMany([{ metric, value, labels }], ts);
  }

  /** Writes samples as one batch: one statement, one timestamp, so readers never see half a stats run. */
  async recordMany(samples: readonly StatsSampleInput[], ts: Date = new Date()): Promise<number> {
    if (samples.length === 0) return 0;
    const bad = samples.find((s) => !Number.isFinite(s.value));
    if (bad !== undefined) {
      throw new ValidationError(`Stats sample ${bad.metric} is not a finite number: ${bad.value}`, { field: 'value' });
    }
    await this.db
      .insertInto('stats_samples')
      .values(samples.map((s) => ({ metric: s.metric, value: s.value, labels: s.labels ?? {}, ts })))
      .execute();
    return samples.length;
  }

  /**
   * One metric over time, oldest first. `labels` keeps samples whose labels include these (e.g. `{ window: '24h' }`
   * matches `{ window: '24h', service: 'strava' }` too; add `service` to narrow). With more points than `limit`, the
   * newest `limit` are returned.
   */
  async series(
    metric: string,
    opts: { since?: Date; until?: Date; labels?: Record<string, string>; limit?: number } = {},
  ): Promise<StatsPoint[]> {
    let q = this.db
      .selectFrom('stats_samples')
      .select(['metric', 'ts', 'value', 'labels'])
      .where('metric', '=', metric);
    if (opts.since !== undefined) q = q.where('ts', '>=', opts.since);
    if (opts.until !== undefined) q = q.where('ts', '<=', opts.until);
    if (opts.labels !== undefined && Object.keys(opts.labels).length > 0) {
      q = q.where(sql<boolean>`labels @> ${JSON.stringify(opts.labels)}::jsonb`);
    }
    const rows = await q
      .orderBy('ts', 'desc')
      .orderBy('id', 'desc')
      .limit(opts.limit ?? DEFAULT_SERIES_LIMIT)
      .execute();
    return rows.reverse().map(toPoint);
  }

  /**
   * The newest batch of every metric (or of the given ones); see StatsSnapshot. `currentOnly` leaves out metrics the
   * newest run did not write (no sync finished, no open errors), for readers that must not show stale figures.
   */
  async latestSnapshot(opts: { metrics?: readonly string[]; currentOnly?: boolean } = {}): Promise<StatsSnapshot> {
    if (opts.metrics !== undefined && opts.metrics.length === 0) return { at: null, samples: [] };
    const metrics = opts.metrics === undefined ? null : [...opts.metrics];
    // The (metric, ts DESC) index answers each metric's newest ts directly; a skip scan over the distinct metrics.
    const { rows } = await sql<Pick<StatsSampleRow, 'metric' | 'ts' | 'value' | 'labels'>>`
      WITH RECURSIVE metrics AS (
        (SELECT metric FROM stats_samples ORDER BY metric LIMIT 1)
        UNION ALL
        SELECT (SELECT s.metric FROM stats_samples s WHERE s.metric > m.metric ORDER BY s.metric LIMIT 1)
        FROM metrics m WHERE m.metric IS NOT NULL
      ), newest AS (
        SELECT m.metric, (SELECT max(s.ts) FROM stats_samples s WHERE s.metric = m.metric) AS ts
        FROM metrics m
        WHERE m.metric IS NOT NULL AND (${metrics}::text[] IS NULL OR m.metric = ANY(${metrics}::text[]))
      )
      SELECT s.metric, s.ts, s.value, s.labels
      FROM newest n JOIN stats_samples s ON s.metric = n.metric AND s.ts = n.ts
      ORDER BY s.metric, s.labels::text, s.id
    `.execute(this.db);
    const samples = rows.map(toPoint);
    const at = samples.reduce<Date | null>((max, s) => (max === null || s.ts > max ? s.ts : max), null);
    if (opts.currentOnly === true && at !== null) {
      return { at, samples: samples.filter((s) => s.ts.getTime() === at.getTime()) };
    }
    return { at, samples };
  }

  /** The newest value of one metric with exactly these labels, or undefined. */
  async latestValue(metric: string, labels: Record<string, string> = {}): Promise<StatsPoint | undefined> {
    const row = await this.db
      .selectFrom('stats_samples')
      .select(['metric', 'ts', 'value', 'labels'])
      .where('metric', '=', metric)
      .where(sql<boolean>`labels = ${JSON.stringify(labels)}::jsonb`)
      .orderBy('ts', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : toPoint(row);
  }

  /** Names of the metrics that have samples, for pickers on the admin pages. */
  async metricNames(): Promise<string[]> {
    const rows = await this.db.selectFrom('stats_samples').select('metric').distinct().orderBy('metric').execute();
    return rows.map((r) => r.metric);
  }

  /** Retention: deletes samples older than `before`; returns how many. */
  async prune(before: Date): Promise<number> {
    const res = await this.db.deleteFrom('stats_samples').where('ts', '<', before).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
