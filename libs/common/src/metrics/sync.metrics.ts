import { Counter, Histogram, type Registry } from 'prom-client';

export interface SyncFinishedEvent {
  trigger: string;
  /** The run's outcome (`succeeded`, `partial`, `failed`), or `error` when the sync threw. */
  status: string;
  durationMs: number;
}

/** What the sync engine reports; SyncMetrics implements it, tests may pass a recorder. */
export interface SyncMetricsSink {
  syncFinished(event: SyncFinishedEvent): void;
  /** One activity copied to a destination service (a fresh upload, not one found already there). */
  activitySynced(service: string): void;
}

export class SyncMetrics implements SyncMetricsSink {
  private readonly durations: Histogram<'trigger' | 'status'>;
  private readonly synced: Counter<'service'>;

  constructor(registry: Registry) {
    this.durations = new Histogram({
      name: 'tributary_sync_duration_seconds',
      help: "Duration of one user's sync, by trigger and outcome.",
      labelNames: ['trigger', 'status'],
      // From a no-op partial sync to a first exhaustive sync of a large history.
      buckets: [0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [registry],
    });
    this.synced = new Counter({
      name: 'tributary_activities_synced_total',
      help: 'Activities uploaded to a destination service by a sync.',
      labelNames: ['service'],
      registers: [registry],
    });
  }

  syncFinished(event: SyncFinishedEvent): void {
    this.durations.observe({ trigger: event.trigger, status: event.status }, event.durationMs / 1000);
  }

  activitySynced(service: string): void {
    this.synced.inc({ service });
  }
}
