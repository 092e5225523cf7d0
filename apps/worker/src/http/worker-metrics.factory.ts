import { type Registry } from 'prom-client';
import {
  ConnectorMetrics,
  HubStatsMetrics,
  QueueMetrics,
  SyncMetrics,
  createMetricsRegistry,
  type HubStatsSource,
  type QueueSnapshot,
} from '@tributary/common';
import { StatsRepository, type Database } from '@tributary/db';
import { QueueName, type JobService } from '@tributary/queue';

/** The worker's metrics: one registry, and the hooks the sync engine and connectors report into. */
export interface WorkerMetrics {
  registry: Registry;
  connectors: ConnectorMetrics;
  sync: SyncMetrics;
}

/** Every BullMQ state worth seeing; `completed` and `failed` are bounded by the queues' retention settings. */
const JOB_STATES = ['waiting', 'prioritized', 'waiting-children', 'active', 'delayed', 'failed', 'completed'] as const;

/** Job counts by state for every queue, read at scrape time. */
export function queueSnapshots(jobs: JobService): () => Promise<QueueSnapshot[]> {
  return () =>
    Promise.all(
      Object.values(QueueName).map(async (queue): Promise<QueueSnapshot> => {
        const [states, counts] = await Promise.all([
          jobs.queue(queue).getJobCounts(...JOB_STATES),
          // The same definition of "waiting" as the stats job, so the gauge and the stats page agree.
          jobs.counts(queue),
        ]);
        return { queue, states, waiting: counts.waiting, oldestWaitingMs: counts.oldestWaitingMs };
      }),
    );
}

/** The stats job's newest batch of every metric. */
export function hubStatsSnapshot(stats: StatsRepository): HubStatsSource {
  return async () =>
    (await stats.latestSnapshot()).samples.map((s) => ({
      metric: s.metric,
      labels: s.labels,
      value: s.value,
      at: s.ts,
    }));
}

export function createWorkerMetrics(deps: {
  jobs: JobService;
  database?: Database;
  version?: string;
  processMetrics?: boolean;
}): WorkerMetrics {
  const registry = createMetricsRegistry({
    role: 'worker',
    ...(deps.version === undefined ? {} : { version: deps.version }),
    ...(deps.processMetrics === undefined ? {} : { processMetrics: deps.processMetrics }),
  });
  new QueueMetrics(registry, queueSnapshots(deps.jobs));
  if (deps.database !== undefined)
    new HubStatsMetrics(registry, hubStatsSnapshot(new StatsRepository(deps.database.db)));
  return { registry, connectors: new ConnectorMetrics(registry), sync: new SyncMetrics(registry) };
}
