/*
 * DO NOT CHANGE THE VALUES of these enums: they are queue and job names stored in Redis. Renaming one strands every
 * waiting, delayed and scheduled job under the old name. Add a new member and migrate instead.
 */

export enum QueueName {
  /** Per-user sync work and the webhook events that lead to it. */
  Sync = 'sync',
  /** Cluster-wide periodic jobs (stats, scheduler, watchdog); one BullMQ job scheduler each, so one run per cluster. */
  Maintenance = 'maintenance',
}

export enum JobName {
  SyncUser = 'sync-user',
  WebhookEvent = 'webhook-event',
  StatsCron = 'stats-cron',
  /** Every minute: queues a SyncUser job for each user whose next sync is due. */
  ScheduleSyncs = 'schedule-syncs',
  /** Every minute: fails sync runs whose worker stopped sending heartbeats and queues their users again. */
  Watchdog = 'watchdog',
}
