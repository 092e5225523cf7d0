import { type Kysely } from 'kysely';
import { type DB, type StatsSampleRow } from '../schema';

/** System-wide time series for the stats page; no user data. */
export class StatsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async record(metric: string, value: number, labels: Record<string, string> = {}, ts?: Date): Promise<void> {
    await this.db.insertInto('stats_samples').values({ metric, value, labels, ts }).execute();
  }

  async series(metric: string, opts: { since?: Date; limit?: number } = {}): Promise<StatsSampleRow[]> {
    let q = this.db.selectFrom('stats_samples').selectAll().where('metric', '=', metric);
    if (opts.since) q = q.where('ts', '>=', opts.since);
    return q
      .orderBy('ts', 'desc')
      .limit(opts.limit ?? 1000)
      .execute();
  }
}
