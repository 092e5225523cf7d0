import { ValidationError } from '@tributary/common';
import {
  MAX_GAP_BEFORE_EXHAUSTIVE_MS,
  SYNC_INTERVAL_JITTER_MS,
  SyncPriority,
  dailyPassSlot,
  isLongSyncGap,
  nextSyncAt,
  syncPriorityFor,
} from './sync-schedule.util';
import { STALE_HEARTBEAT_MS, STALE_LISTING_HEARTBEAT_MS, WORKER_STALL_OPTIONS } from './job-options.constants';

const NOW = new Date('2026-03-01T12:00:00Z');

describe('nextSyncAt', () => {
  it('should add the interval minus the full jitter at rng 0 and plus it near rng 1', () => {
    expect(nextSyncAt(NOW, 60, () => 0).getTime()).toBe(NOW.getTime() + 60 * 60_000 - SYNC_INTERVAL_JITTER_MS);
    expect(nextSyncAt(NOW, 60, () => 0.5).getTime()).toBe(NOW.getTime() + 60 * 60_000);
    expect(nextSyncAt(NOW, 60, () => 0.999999).getTime()).toBeCloseTo(
      NOW.getTime() + 60 * 60_000 + SYNC_INTERVAL_JITTER_MS,
      -2,
    );
  });

  it('should stay within interval ± 5 minutes for any random value', () => {
    for (let i = 0; i < 200; i++) {
      const at = nextSyncAt(NOW, 60).getTime() - NOW.getTime();
      expect(at).toBeGreaterThanOrEqual(55 * 60_000);
      expect(at).toBeLessThanOrEqual(65 * 60_000);
    }
  });

  it('should cap the jitter at half a short interval so the next sync is never in the past', () => {
    expect(nextSyncAt(NOW, 1, () => 0).getTime()).toBe(NOW.getTime() + 30_000);
    expect(nextSyncAt(NOW, 1, () => 1).getTime()).toBe(NOW.getTime() + 90_000);
  });

  it('should reject a non-positive interval', () => {
    expect(() => nextSyncAt(NOW, 0)).toThrow(ValidationError);
  });
});

describe('isLongSyncGap', () => {
  it('should be true for a user never synced or synced more than 14 days ago', () => {
    expect(isLongSyncGap(null, NOW)).toBe(true);
    expect(isLongSyncGap(new Date(NOW.getTime() - MAX_GAP_BEFORE_EXHAUSTIVE_MS - 1), NOW)).toBe(true);
    expect(isLongSyncGap(new Date(NOW.getTime() - MAX_GAP_BEFORE_EXHAUSTIVE_MS), NOW)).toBe(false);
    expect(isLongSyncGap(new Date(NOW.getTime() - 60_000), NOW)).toBe(false);
  });
});

describe('syncPriorityFor', () => {
  it('should serve manual syncs first, then webhooks, then the schedule', () => {
    expect(syncPriorityFor('manual')).toBeLessThan(syncPriorityFor('webhook'));
    expect(syncPriorityFor('webhook')).toBeLessThan(syncPriorityFor('scheduled'));
    expect(syncPriorityFor('scheduled')).toBeLessThan(SyncPriority.Background);
    expect(syncPriorityFor('connected')).toBe(SyncPriority.Manual);
  });
});

describe('dailyPassSlot', () => {
  it('should be the minute of the UTC day', () => {
    expect(dailyPassSlot(new Date('2026-03-01T00:00:59Z'))).toBe(0);
    expect(dailyPassSlot(new Date('2026-03-01T23:59:00Z'))).toBe(1439);
  });
});

describe('WORKER_STALL_OPTIONS', () => {
  it('should redeliver jobs of dead workers long before the watchdog declares a run stale', () => {
    const redeliveredWithinMs = WORKER_STALL_OPTIONS.lockDuration + WORKER_STALL_OPTIONS.stalledInterval;
    expect(redeliveredWithinMs * 4).toBeLessThan(STALE_HEARTBEAT_MS);
    expect(STALE_HEARTBEAT_MS).toBeLessThan(STALE_LISTING_HEARTBEAT_MS);
  });
});
