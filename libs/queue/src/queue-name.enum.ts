/*
 * DO NOT CHANGE THE VALUES of these enums: they are queue and job names stored in Redis. Renaming one strands every
 * waiting, delayed and scheduled job under the old name. Add a new member and migrate instead.
 */

export enum QueueName {
  /** Per-user sync work and the webhook events that lead to it. */
  Sync = 'sync',
  /**
   * Retired: the periodic jobs of every maintenance role shared this queue, so a worker with one of those roles took
   * the others' jobs too and failed them for want of a handler. Kept only so boot can remove its old schedulers.
   */
  Maintenance = 'maintenance',
  /*
   * One queue per WORKER_ROLES role below: a worker consumes only the queues of its roles, so it never receives a
   * job it has no handler for. Each holds one BullMQ job scheduler, so a job runs once per interval per cluster.
   */
  Stats = 'stats',
  Scheduler = 'scheduler',
  Watchdog = 'watchdog',
}

/** Queues that currently carry jobs (everything but the retired Maintenance queue). */
export const ACTIVE_QUEUES: readonly QueueName[] = [
  QueueName.Sync,
  QueueName.Stats,
  QueueName.Scheduler,
  QueueName.Watchdog,
];

export enum JobName {
  SyncUser = 'sync-user',
  WebhookEvent = 'webhook-event',
  StatsCron = 'stats-cron',
  /** Every minute: queues a SyncUser job for each user whose next sync is due. */
  ScheduleSyncs = 'schedule-syncs',
  /** Every minute: fails sync runs whose worker stopped sending heartbeats and queues their users again. */
  Watchdog = 'watchdog',
  /** Tells a user (email, webhook) that one group of blocking sync errors needs them; at most once per group. */
  Notify = 'notify',
}
