import type { JobsOptions } from 'bullmq';
import { type JobItem } from './job-item.types';
import { JobName, QueueName } from './queue-name.enum';

/*
 * Every retry, backoff and retention setting lives here, never inline at a call site. Failed jobs are kept
 * (removeOnFail: false) for inspection; completed ones are dropped because the outcome is recorded in Postgres.
 */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 30_000 },
  removeOnComplete: true,
  removeOnFail: false,
} as const satisfies JobsOptions;

export const JOB_OPTIONS: Readonly<Record<JobName, JobsOptions>> = {
  // Upstream APIs rate-limit in 15-minute windows (Strava), so retries back off from a minute upwards.
  [JobName.SyncUser]: { ...DEFAULT_JOB_OPTIONS, attempts: 5, backoff: { type: 'exponential', delay: 60_000 } },
  /*
   * A webhook can announce an activity before the provider's listing shows it (tapiriik lost an hour there). The
   * handler throws a retryable error while the activity is not in the user's records, so these attempts are the
   * "check again" schedule: 1, 2, 4, 8 and 16 minutes after the first check, about half an hour in all.
   */
  [JobName.WebhookEvent]: { ...DEFAULT_JOB_OPTIONS, attempts: 6, backoff: { type: 'exponential', delay: 60_000 } },
  // The next scheduled run replaces a failed one; retrying a stale statistics snapshot has no value.
  [JobName.StatsCron]: { ...DEFAULT_JOB_OPTIONS, attempts: 1, removeOnFail: { count: 100 } },
  // Both run every minute; the next run does the work of a failed one.
  [JobName.ScheduleSyncs]: { ...DEFAULT_JOB_OPTIONS, attempts: 1, removeOnFail: { count: 100 } },
  [JobName.Watchdog]: { ...DEFAULT_JOB_OPTIONS, attempts: 1, removeOnFail: { count: 100 } },
  // An SMTP server or webhook receiver that is down for a while: 1, 2, 4, 8 … minutes, about 4 hours in all.
  [JobName.Notify]: { ...DEFAULT_JOB_OPTIONS, attempts: 9, backoff: { type: 'exponential', delay: 60_000 } },
};

/** Default worker concurrency per queue; the sync queue's comes from SYNC_CONCURRENCY. */
export const DEFAULT_QUEUE_CONCURRENCY: Readonly<Record<QueueName, number>> = {
  [QueueName.Sync]: 4,
  [QueueName.Maintenance]: 1,
  [QueueName.Stats]: 1,
  [QueueName.Scheduler]: 1,
  [QueueName.Watchdog]: 1,
};

/** How long a shutdown waits for active jobs before giving up; below Kubernetes' default 30 s grace period. */
export const WORKER_DRAIN_TIMEOUT_MS = 25_000;

/** tapiriik's diagnostics assumed stats every 10 minutes; the graphs and load factor depend on that cadence. */
export const STATS_CRON_EVERY_MS = 10 * 60_000;

/** How often due users are queued; a due sync starts at most this late. */
export const SCHEDULE_SYNCS_EVERY_MS = 60_000;

/** How often the watchdog looks for sync runs whose worker stopped responding. */
export const WATCHDOG_EVERY_MS = 60_000;

/** A running sync whose last heartbeat is older than this is presumed dead (tapiriik: 10 min). */
export const STALE_HEARTBEAT_MS = 10 * 60_000;

/**
 * While listing, one provider call can legitimately take long (a first exhaustive Garmin listing pages through
 * years of history behind a rate limit), so the watchdog waits longer (tapiriik: 45 min in state `list`).
 */
export const STALE_LISTING_HEARTBEAT_MS = 45 * 60_000;

/**
 * BullMQ's stalled-job detection, applied to every queue worker. It and the watchdog cover different failures:
 * - BullMQ renews a job's lock every lockDuration/2 from the worker's event loop. When the worker process dies
 *   (crash, OOM kill, node drained), the lock lapses and the stalled check (every stalledInterval) puts the job back
 *   in the queue within lockDuration + stalledInterval (90 s), well before the watchdog's STALE_HEARTBEAT_MS
 *   (10 min). maxStalledCount 2 fails a job that kills its worker twice in a row instead of crash-looping the fleet.
 * - A worker that is alive but stuck (a hung upstream call) keeps renewing the lock, so BullMQ never notices; only the
 *   sync run's heartbeat shows it. The watchdog then fails the run, releases the user's lease and queues the user.
 * Keep lockDuration + stalledInterval far below STALE_HEARTBEAT_MS, or the watchdog would race BullMQ's redelivery
 * of jobs from dead workers (a spec asserts it).
 */
export const WORKER_STALL_OPTIONS = {
  lockDuration: 60_000,
  stalledInterval: 30_000,
  maxStalledCount: 2,
} as const;

/**
 * Deterministic job ids make enqueueing idempotent: a user has at most one pending sync however many triggers fire.
 * BullMQ rejects ':' in custom ids, hence '-'.
 */
export function jobIdFor(item: JobItem): string {
  switch (item.name) {
    case JobName.SyncUser:
      return `${JobName.SyncUser}-${item.data.userId}`;
    case JobName.WebhookEvent:
      return `${JobName.WebhookEvent}-${item.data.connectionId}-${item.data.eventId}`;
    case JobName.Notify:
      return `${JobName.Notify}-${item.data.userId}-${item.data.group}`;
    case JobName.StatsCron:
    case JobName.ScheduleSyncs:
    case JobName.Watchdog:
      return item.name;
  }
}
