import { type Logger } from '@tributary/common';
import { type StatsRepository, type StatsSampleInput } from '@tributary/db';
import { ACTIVE_QUEUES, STATS_CRON_EVERY_MS, type JobService } from '@tributary/queue';
import { type StatsSourcesRepository, SYNC_WINDOWS } from './stats-sources.repository';

/** Sync durations are reported over the last hour (tapiriik's diagnostics did the same). */
export const SYNC_DURATION_WINDOW_MS = 60 * 60_000;

/**
 * Metric names written by the stats job. Stable: the stats page, the admin pages and /metrics read them back.
 * Labels: `window` (1h, 24h, total), `service` (destination, or `account`), `queue`, `quantile`, `status`, `code`.
 */
export const StatsMetric = {
  ActivitiesSynced: 'activities_synced',
  /** Metres. */
  DistanceSynced: 'distance_synced_m',
  QueueWaiting: 'queue_waiting',
  QueueActive: 'queue_active',
  QueueDelayed: 'queue_delayed',
  QueueFailed: 'queue_failed',
  QueueOldestWaitingMs: 'queue_oldest_waiting_ms',
  /** Mean wait of the jobs workers started since the previous stats run; 0 when none started. */
  QueueMeanWaitMs: 'queue_mean_wait_ms',
  QueueStarted: 'queue_started',
  /** Only written when a sync finished in the last hour: a 0 would read as "instant", not "none". */
  SyncDurationMs: 'sync_duration_ms',
  SyncRunsFinished: 'sync_runs_finished',
  UsersWithBlockingErrors: 'users_blocking_errors',
  ErrorGroupErrors: 'error_group_errors',
  ErrorGroupUsers: 'error_group_users',
  Users: 'users',
  Connections: 'connections',
} as const;

export interface StatsCronOptions {
  retentionDays: number;
  topErrorGroups: number;
  /** Which starts count as "recent" for the mean wait; the stats cadence by default, so runs do not overlap. */
  waitWindowMs?: number;
}

export interface StatsCronDependencies {
  sources: StatsSourcesRepository;
  stats: Pick<StatsRepository, 'recordMany' | 'prune'>;
  jobs: Pick<JobService, 'counts' | 'recentWaits'>;
  logger: Logger;
  options: StatsCronOptions;
}

export interface StatsCronSummary {
  written: number;
  pruned: number;
}

const SYNC_RUN_STATUSES = ['succeeded', 'partial', 'failed'] as const;

/**
 * The periodic stats job (tapiriik's stats_cron): computes the hub's figures and stores them as one batch of time
 * series samples, then drops samples past the retention. Everything is recomputed from Postgres and the queues each
 * run, so a missed or failed run loses one point and nothing else.
 */
export class StatsCronService {
  constructor(private readonly deps: StatsCronDependencies) {}

  async run(now: Date): Promise<StatsCronSummary> {
    const samples = [
      ...(await this.syncedSamples(now)),
      ...(await this.queueSamples(now)),
      ...(await this.durationSamples(now)),
      ...(await this.errorSamples()),
      ...(await this.populationSamples()),
    ];
    const written = await this.deps.stats.recordMany(samples, now);
    const retentionMs = this.deps.options.retentionDays * 24 * 60 * 60_000;
    const pruned = await this.deps.stats.prune(new Date(now.getTime() - retentionMs));
    this.deps.logger.info({ written, pruned }, 'stats sampled');
    return { written, pruned };
  }

  private async syncedSamples(now: Date): Promise<StatsSampleInput[]> {
    const totals = await this.deps.sources.syncedTotals(now);
    const out: StatsSampleInput[] = [];
    const windows = [...SYNC_WINDOWS.map((w) => w.label), 'total'];
    const add = (t: typeof totals.overall, extra: Record<string, string>): void => {
      for (const window of windows) {
        out.push({
          metric: StatsMetric.ActivitiesSynced,
          value: t.activities[window] ?? 0,
          labels: { window, ...extra },
        });
        out.push({ metric: StatsMetric.DistanceSynced, value: t.distance[window] ?? 0, labels: { window, ...extra } });
      }
    };
    add(totals.overall, {});
    for (const [service, t] of totals.byService) add(t, { service });
    return out;
  }

  private async queueSamples(now: Date): Promise<StatsSampleInput[]> {
    const out: StatsSampleInput[] = [];
    const since = now.getTime() - (this.deps.options.waitWindowMs ?? STATS_CRON_EVERY_MS);
    for (const queue of ACTIVE_QUEUES) {
      const labels = { queue };
      const counts = await this.deps.jobs.counts(queue);
      const waits = await this.deps.jobs.recentWaits(queue, since);
      out.push(
        { metric: StatsMetric.QueueWaiting, value: counts.waiting, labels },
        { metric: StatsMetric.QueueActive, value: counts.active, labels },
        { metric: StatsMetric.QueueDelayed, value: counts.delayed, labels },
        { metric: StatsMetric.QueueFailed, value: counts.failed, labels },
        { metric: StatsMetric.QueueOldestWaitingMs, value: counts.oldestWaitingMs ?? 0, labels },
        { metric: StatsMetric.QueueMeanWaitMs, value: waits.meanWaitMs ?? 0, labels },
        { metric: StatsMetric.QueueStarted, value: waits.started, labels },
      );
    }
    return out;
  }

  private async durationSamples(now: Date): Promise<StatsSampleInput[]> {
    const durations = await this.deps.sources.syncDurations(now, SYNC_DURATION_WINDOW_MS);
    const out: StatsSampleInput[] = [];
    for (const [quantile, ms] of durations.quantiles) {
      out.push({ metric: StatsMetric.SyncDurationMs, value: ms, labels: { quantile: String(quantile) } });
    }
    for (const status of SYNC_RUN_STATUSES) {
      out.push({
        metric: StatsMetric.SyncRunsFinished,
        value: durations.byStatus.get(status) ?? 0,
        labels: { status },
      });
    }
    return out;
  }

  private async errorSamples(): Promise<StatsSampleInput[]> {
    const blocked = await this.deps.sources.usersWithBlockingErrors();
    const out: StatsSampleInput[] = [
      { metric: StatsMetric.UsersWithBlockingErrors, value: blocked.get('all') ?? 0, labels: {} },
    ];
    for (const [service, users] of blocked) {
      if (service !== 'all')
        out.push({ metric: StatsMetric.UsersWithBlockingErrors, value: users, labels: { service } });
    }
    for (const group of await this.deps.sources.topErrorGroups(this.deps.options.topErrorGroups)) {
      const labels = { service: group.service, code: group.code };
      out.push(
        { metric: StatsMetric.ErrorGroupErrors, value: group.errors, labels },
        { metric: StatsMetric.ErrorGroupUsers, value: group.users, labels },
      );
    }
    return out;
  }

  private async populationSamples(): Promise<StatsSampleInput[]> {
    const { users, connections } = await this.deps.sources.population();
    const out: StatsSampleInput[] = [{ metric: StatsMetric.Users, value: users, labels: {} }];
    for (const [service, n] of connections)
      out.push({ metric: StatsMetric.Connections, value: n, labels: { service } });
    return out;
  }
}
