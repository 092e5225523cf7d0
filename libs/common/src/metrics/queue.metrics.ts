import { Gauge, type Registry } from 'prom-client';
import { CollectErrors, sharedLoad } from './metrics.registry';

export interface QueueSnapshot {
  queue: string;
  /** Job counts by BullMQ state (waiting, prioritized, active, delayed, failed, completed, …). */
  states: Readonly<Record<string, number>>;
  /** Jobs ready to run but not started: what sync-worker autoscaling targets. */
  waiting: number;
  oldestWaitingMs: number | null;
}

/** Reads the queues; called on each scrape (at most once per second however many gauges ask). */
export type QueueSnapshotSource = () => Promise<readonly QueueSnapshot[]>;

/**
 * Queue gauges read from BullMQ at scrape time, so they are exact whenever Prometheus looks and cost nothing between
 * scrapes. Every pod that has the queues exports the same figures: aggregate with max(), never sum().
 */
export class QueueMetrics {
  /** `cacheMs`: how long one read of the queues serves (one scrape asks several times). */
  constructor(registry: Registry, source: QueueSnapshotSource, cacheMs = 1000) {
    const load = sharedLoad(source, cacheMs);
    const errors = new CollectErrors(registry);
    // Only one of the gauges counts a failed load: they share it, and one failure should count once.
    const collectInto = <L extends string>(
      fill: (gauge: Gauge<L>, snapshots: readonly QueueSnapshot[]) => void,
      countsFailures = false,
    ) =>
      async function collect(this: Gauge<L>): Promise<void> {
        this.reset();
        try {
          fill(this, await load());
        } catch {
          if (countsFailures) errors.failed('queues');
        }
      };
    new Gauge({
      name: 'tributary_jobs',
      help: 'Jobs in each BullMQ queue by state.',
      labelNames: ['queue', 'state'],
      registers: [registry],
      collect: collectInto((gauge, snapshots) => {
        for (const s of snapshots)
          for (const [state, n] of Object.entries(s.states)) gauge.set({ queue: s.queue, state }, n);
      }, true),
    });
    // The name and labels are what k8s/base/worker-sync-hpa.yaml and the KEDA ScaledObject query.
    new Gauge({
      name: 'tributary_queue_waiting',
      help: 'Jobs waiting to start in each queue (waiting + prioritized); drives sync-worker autoscaling.',
      labelNames: ['queue'],
      registers: [registry],
      collect: collectInto((gauge, snapshots) => {
        for (const s of snapshots) gauge.set({ queue: s.queue }, s.waiting);
      }),
    });
    new Gauge({
      name: 'tributary_queue_oldest_waiting_seconds',
      help: 'Age of the oldest job waiting in each queue (0 when none waits).',
      labelNames: ['queue'],
      registers: [registry],
      collect: collectInto((gauge, snapshots) => {
        for (const s of snapshots) gauge.set({ queue: s.queue }, (s.oldestWaitingMs ?? 0) / 1000);
      }),
    });
  }
}
