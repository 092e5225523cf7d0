import { loadConfig } from '@tributary/config';
import { STALE_HEARTBEAT_MS, WORKER_STALL_OPTIONS } from './job-options.constants';
import { syncTiming, syncTimingFromConfig } from './sync-timing.util';

describe(syncTiming.name, () => {
  it('should keep the historic heartbeat, lease and stall settings for the default thresholds', () => {
    expect(syncTiming()).toEqual({
      staleHeartbeatMs: 600_000,
      staleListingHeartbeatMs: 2_700_000,
      heartbeatIntervalMs: 15_000,
      leaseTtlMs: 120_000,
      stall: WORKER_STALL_OPTIONS,
    });
    expect(syncTimingFromConfig(loadConfig({}).worker)).toEqual(syncTiming());
  });

  it.each([15_000, 20_000, 60_000, 300_000, STALE_HEARTBEAT_MS, 3_600_000])(
    'should redeliver a dead worker’s job and free its user well before a %i ms watchdog acts',
    (staleHeartbeatMs) => {
      const t = syncTiming({ staleHeartbeatMs });
      expect((t.stall.lockDuration + t.stall.stalledInterval) * 4).toBeLessThan(staleHeartbeatMs);
      expect(t.heartbeatIntervalMs * 8).toBeLessThanOrEqual(staleHeartbeatMs);
      expect(t.leaseTtlMs).toBeGreaterThanOrEqual(t.heartbeatIntervalMs * 4);
      expect(t.leaseTtlMs).toBeLessThan(staleHeartbeatMs);
      expect(t.stall.stalledInterval).toBeLessThan(t.stall.lockDuration);
    },
  );

  it('should follow SYNC_HEARTBEAT_STALE_SECONDS and never let the listing threshold fall below it', () => {
    const config = loadConfig({ SYNC_HEARTBEAT_STALE_SECONDS: '20', SYNC_LISTING_STALE_SECONDS: '40' });
    expect(syncTimingFromConfig(config.worker)).toMatchObject({
      staleHeartbeatMs: 20_000,
      staleListingHeartbeatMs: 40_000,
      heartbeatIntervalMs: 2_500,
      leaseTtlMs: 10_000,
      stall: { lockDuration: 2_000, stalledInterval: 1_000 },
    });
    expect(syncTiming({ staleHeartbeatMs: 30_000, staleListingHeartbeatMs: 1_000 }).staleListingHeartbeatMs).toBe(
      30_000,
    );
    expect(() => loadConfig({ SYNC_HEARTBEAT_STALE_SECONDS: '120', SYNC_LISTING_STALE_SECONDS: '60' })).toThrow(
      /SYNC_LISTING_STALE_SECONDS/,
    );
    expect(() => loadConfig({ SYNC_HEARTBEAT_STALE_SECONDS: '5' })).toThrow(/SYNC_HEARTBEAT_STALE_SECONDS/);
  });
});
