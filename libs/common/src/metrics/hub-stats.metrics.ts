import { Gauge, type Registry } from 'prom-client';
import { CollectErrors, sharedLoad } from './metrics.registry';

/** The latest value of one series of the stats job (a `stats_samples` row). */
export interface HubStatSample {
  metric: string;
  labels: Readonly<Record<string, string>>;
  value: number;
  at: Date;
}

export type HubStatsSource = () => Promise<readonly HubStatSample[]>;

/** `queue=sync,service=strava`: sample labels are free-form, so they travel as one sorted label value. */
export function seriesLabel(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k] ?? ''}`)
    .join(',');
}

/**
 * The hub-wide figures the stats job writes to Postgres (users, connections, queue samples, …), exported as they
 * were last sampled, plus how old that sample is: a stale snapshot means the stats job stopped running.
 */
export class HubStatsMetrics {
  constructor(registry: Registry, source: HubStatsSource, now: () => number = Date.now) {
    const load = sharedLoad(source);
    const errors = new CollectErrors(registry);
    new Gauge({
      name: 'tributary_hub_stat',
      help: 'Latest value of each series recorded by the stats job (stats_samples), by metric and series labels.',
      labelNames: ['metric', 'series'],
      registers: [registry],
      async collect() {
        this.reset();
        try {
          for (const s of await load()) this.set({ metric: s.metric, series: seriesLabel(s.labels) }, s.value);
        } catch {
          errors.failed('hub_stats');
        }
      },
    });
    new Gauge({
      name: 'tributary_hub_stats_age_seconds',
      help: 'Age of the newest stats sample; grows when the stats job stops running.',
      registers: [registry],
      async collect() {
        this.reset();
        try {
          const samples = await load();
          if (samples.length === 0) return;
          const newest = Math.max(...samples.map((s) => s.at.getTime()));
          this.set(Math.max(0, (now() - newest) / 1000));
        } catch {
          // Counted once, by tributary_hub_stat's collector, which shares this load.
        }
      },
    });
  }
}
