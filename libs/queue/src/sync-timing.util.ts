import { STALE_HEARTBEAT_MS, STALE_LISTING_HEARTBEAT_MS, WORKER_STALL_OPTIONS } from './job-options.constants';

/** BullMQ's stalled-job settings for a queue worker (see WORKER_STALL_OPTIONS). */
export interface StallOptions {
  lockDuration: number;
  stalledInterval: number;
  maxStalledCount: number;
}

/** Every timing of a running sync that must agree with the watchdog's thresholds. */
export interface SyncTiming {
  /** The watchdog fails a run whose heartbeat is older than this. */
  staleHeartbeatMs: number;
  /** The same while the run is listing. */
  staleListingHeartbeatMs: number;
  /** How often a running sync writes its heartbeat and renews its lease. */
  heartbeatIntervalMs: number;
  /** The user's lease; outlives several missed heartbeats, expires before the watchdog would act. */
  leaseTtlMs: number;
  stall: StallOptions;
}

/** A lock shorter than this is renewed so often that a busy event loop (a large FIT encode) would lose it. */
const MIN_LOCK_DURATION_MS = 2_000;
/** The historic heartbeat (15 s) and lease (120 s); shorter thresholds scale them down. */
const MAX_HEARTBEAT_INTERVAL_MS = 15_000;
const MAX_LEASE_TTL_MS = 120_000;

/**
 * Derives heartbeats, the lease and BullMQ's stalled-job detection from the watchdog's thresholds
 * (SYNC_HEARTBEAT_STALE_SECONDS / SYNC_LISTING_STALE_SECONDS), so they cannot drift apart: a live sync beats at
 * least 8 times per stale window, its lease survives a few missed beats, and BullMQ hands a dead worker's job to
 * another worker (lockDuration + stalledInterval) in well under a quarter of the stale window, before the watchdog
 * fails the run. The defaults (10 min / 45 min) give the historic 15 s beats, 120 s lease and 60 s + 30 s stall check.
 */
export function syncTiming(
  thresholds: { staleHeartbeatMs?: number; staleListingHeartbeatMs?: number } = {},
): SyncTiming {
  const staleHeartbeatMs = thresholds.staleHeartbeatMs ?? STALE_HEARTBEAT_MS;
  const staleListingHeartbeatMs = Math.max(
    staleHeartbeatMs,
    thresholds.staleListingHeartbeatMs ?? STALE_LISTING_HEARTBEAT_MS,
  );
  const lockDuration = Math.min(
    WORKER_STALL_OPTIONS.lockDuration,
    Math.max(MIN_LOCK_DURATION_MS, Math.floor(staleHeartbeatMs / 10)),
  );
  return {
    staleHeartbeatMs,
    staleListingHeartbeatMs,
    heartbeatIntervalMs: Math.min(MAX_HEARTBEAT_INTERVAL_MS, Math.floor(staleHeartbeatMs / 8)),
    leaseTtlMs: Math.min(MAX_LEASE_TTL_MS, Math.floor(staleHeartbeatMs / 2)),
    stall: {
      lockDuration,
      stalledInterval: Math.floor(lockDuration / 2),
      maxStalledCount: WORKER_STALL_OPTIONS.maxStalledCount,
    },
  };
}

/** The timing for the configured thresholds (AppConfig.worker). */
export function syncTimingFromConfig(worker: { heartbeatStaleSeconds: number; listingStaleSeconds: number }) {
  return syncTiming({
    staleHeartbeatMs: worker.heartbeatStaleSeconds * 1000,
    staleListingHeartbeatMs: worker.listingStaleSeconds * 1000,
  });
}
