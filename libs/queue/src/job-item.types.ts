import { JobName, QueueName } from './queue-name.enum';

/** Why a sync was queued; decides nothing by itself but is recorded on the sync run for diagnostics. */
export type SyncTrigger = 'scheduled' | 'manual' | 'webhook' | 'poll' | 'connected';

/*
 * Every job the hub runs, as one discriminated union. Payloads carry IDs only: handlers reload state from Postgres,
 * so a job queued before a change never acts on stale data and nothing secret ever sits in Redis.
 */
export type JobItem =
  | { name: JobName.SyncUser; data: { userId: string; exhaustive?: boolean; trigger: SyncTrigger } }
  /** `eventId` is the provider's id of the object the webhook announced (e.g. the Strava activity id). */
  | { name: JobName.WebhookEvent; data: { userId: string; connectionId: string; eventId: string } }
  | { name: JobName.StatsCron; data: Record<string, never> }
  | { name: JobName.ScheduleSyncs; data: Record<string, never> }
  | { name: JobName.Watchdog; data: Record<string, never> }
  /** `group` is the error group's key (`<intervention>-<connection id>`), an id like the others. */
  | { name: JobName.Notify; data: { userId: string; group: string } };

/** The payload type of one job name. */
export type JobOf<N extends JobName> = Extract<JobItem, { name: N }>['data'];

/** What a handler reports. Failures that should be retried are thrown (RetryableError), not returned. */
export enum JobStatus {
  Success = 'success',
  /** Nothing to do (e.g. the user was deleted since the job was queued). */
  Skipped = 'skipped',
  /** Failed for good and already recorded by the handler; the job is not retried. */
  Failed = 'failed',
}

/** The queue each job runs on; a Record so adding a JobName without a queue does not compile. */
export const JOB_QUEUE: Readonly<Record<JobName, QueueName>> = {
  [JobName.SyncUser]: QueueName.Sync,
  [JobName.WebhookEvent]: QueueName.Sync,
  // The sync workers produce the blocking errors and already hold the database and the keyring.
  [JobName.Notify]: QueueName.Sync,
  [JobName.StatsCron]: QueueName.Stats,
  [JobName.ScheduleSyncs]: QueueName.Scheduler,
  [JobName.Watchdog]: QueueName.Watchdog,
};

const JOB_NAMES: ReadonlySet<string> = new Set(Object.values(JobName));

export function isJobName(value: string): value is JobName {
  return JOB_NAMES.has(value);
}
