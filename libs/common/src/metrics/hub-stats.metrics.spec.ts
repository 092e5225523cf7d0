import { HubStatsMetrics, type HubStatSample, seriesLabel } from './hub-stats.metrics';
import { createMetricsRegistry } from './metrics.registry';

describe(HubStatsMetrics.name, () => {
  it('should export the latest sample of each series and how old the newest one is', async () => {
    const registry = createMetricsRegistry({ role: 'worker', processMetrics: false });
    const now = Date.parse('2026-11-23T06:00:00Z');
    new HubStatsMetrics(
      registry,
      () =>
        Promise.resolve<HubStatSample[]>([
          { metric: 'users_total', labels: {}, value: 42, at: new Date(now - 600_000) },
          { metric: 'connections', labels: { service: 'strava', state: 'ok' }, value: 7, at: new Date(now - 120_000) },
        ]),
      () => now,
    );

    const text = await registry.metrics();

    expect(text).toContain('tributary_hub_stat{metric="users_total",series=""} 42');
    expect(text).toContain('tributary_hub_stat{metric="connections",series="service=strava,state=ok"} 7');
    expect(text).toContain('tributary_hub_stats_age_seconds 120');
  });

  it('should write series labels sorted by name', () => {
    expect(seriesLabel({ window: '24h', service: 'garmin_connect' })).toBe('service=garmin_connect,window=24h');
  });
});
