import { ValidationError } from '@tributary/common';
import { type SyncTrigger } from './job-item.types';

/** Spreads scheduled syncs so users synced together (after an outage, a deploy) do not stay in lockstep. */
export const SYNC_INTERVAL_JITTER_MS = 5 * 60_000;

/** A user not synced for this long may have missed activities beyond a partial listing's first page (tapiriik). */
export const MAX_GAP_BEFORE_EXHAUSTIVE_MS = 14 * 24 * 60 * 60_000;

/** The daily exhaustive pass spreads users over the minutes of a UTC day. */
export const DAILY_PASS_SLOTS = 24 * 60;

/**
 * BullMQ priorities of SyncUser jobs (1 is served first). Every sync job carries one: BullMQ serves jobs without a
 * priority before all prioritized jobs, so an unprioritized job would overtake "Sync now".
 */
export enum SyncPriority {
  /** Someone is looking at the page: "Sync now", or a service just connected. */
  Manual = 1,
  /** A provider told us something changed. */
  Webhook = 2,
  /** The regular interval. */
  Scheduled = 5,
  /** The daily exhaustive pass: only when nothing else waits. */
  Background = 10,
}

export function syncPriorityFor(trigger: SyncTrigger): SyncPriority {
  switch (trigger) {
    case 'manual':
    case 'connected':
      return SyncPriority.Manual;
    case 'webhook':
    case 'poll':
      return SyncPriority.Webhook;
    case 'scheduled':
      return SyncPriority.Scheduled;
  }
}

/**
 * When the next automatic sync of a user should run after a sync that ended at `now`: the interval plus or minus a
 * random jitter of up to 5 minutes (never more than half the interval, so the next sync is never in the past).
 * The sync processor calls this when it finishes a run of a user with automatic sync on (null otherwise) and
 * stores it with UserRepository.markSynced. `rng` returns [0, 1) like Math.random.
 */
export function nextSyncAt(now: Date, intervalMinutes: number, rng: () => number = Math.random): Date {
  if (!Number.isFinite(intervalMinutes) || intervalMinutes <= 0) {
    throw new ValidationError(`The sync interval must be a positive number of minutes, got ${intervalMinutes}`, {
      field: 'intervalMinutes',
    });
  }
  const intervalMs = intervalMinutes * 60_000;
  const jitterMs = Math.min(SYNC_INTERVAL_JITTER_MS, intervalMs / 2);
  const unit = Math.min(Math.max(rng(), 0), 1);
  return new Date(now.getTime() + intervalMs + Math.round((unit * 2 - 1) * jitterMs));
}

/** True when the gap since the last sync is long enough to need an exhaustive listing; never synced counts as long. */
export function isLongSyncGap(lastSyncAt: Date | null, now: Date): boolean {
  return lastSyncAt === null || now.getTime() - lastSyncAt.getTime() > MAX_GAP_BEFORE_EXHAUSTIVE_MS;
}

/** The slot (minute of the UTC day) whose users get their daily exhaustive pass at `now`. */
export function dailyPassSlot(now: Date): number {
  return now.getUTCHours() * 60 + now.getUTCMinutes();
}
