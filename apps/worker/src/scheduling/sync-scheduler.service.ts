import { type Logger } from '@tributary/common';
import { type UserRepository } from '@tributary/db';
import {
  DAILY_PASS_SLOTS,
  JobName,
  SyncPriority,
  dailyPassSlot,
  isLongSyncGap,
  type JobService,
} from '@tributary/queue';
import { type SchedulingRepository } from './scheduling.repository';

/** Users queued per scheduler run; the rest stay due and are picked up a minute later. */
export const SCHEDULER_BATCH = 1000;

export interface SyncSchedulerDependencies {
  users: Pick<UserRepository, 'findDueForSync'>;
  scheduling: Pick<SchedulingRepository, 'lastSyncTimes' | 'findDailyPassUsers'>;
  jobs: Pick<JobService, 'enqueue'>;
  logger: Logger;
  batch?: number;
}

export interface ScheduleSummary {
  due: number;
  /** Jobs actually added; the rest were already queued (deterministic job ids). */
  queued: number;
  exhaustive: number;
  dailyPass: number;
}

/**
 * The scheduler job's whole work: it only enqueues. Each minute it queues a SyncUser job for every user whose
 * next_sync_at has passed (exhaustive when flagged or after a gap of more than 14 days), plus the users whose daily
 * exhaustive pass falls in this minute at the lowest priority. Job ids are per user, so a user already queued or
 * running is never queued twice; whoever finishes a run sets the next next_sync_at (see nextSyncAt).
 *
 * Automatic sync being off is honoured where the next sync is scheduled after a run (no next_sync_at), so one-off
 * requests such as connecting a service still run for those users.
 */
export class SyncScheduler {
  constructor(private readonly deps: SyncSchedulerDependencies) {}

  async run(now: Date): Promise<ScheduleSummary> {
    const { users, scheduling, jobs, logger } = this.deps;
    const batch = this.deps.batch ?? SCHEDULER_BATCH;
    const due = await users.findDueForSync(now, batch);
    const lastSync = await scheduling.lastSyncTimes(due.map((u) => u.id));
    const summary: ScheduleSummary = { due: due.length, queued: 0, exhaustive: 0, dailyPass: 0 };
    for (const user of due) {
      const exhaustive = user.next_sync_exhaustive || isLongSyncGap(lastSync.get(user.id) ?? null, now);
      const { added } = await jobs.enqueue(
        { name: JobName.SyncUser, data: { userId: user.id, trigger: 'scheduled', exhaustive } },
        { priority: SyncPriority.Scheduled },
      );
      if (added) summary.queued++;
      if (exhaustive) summary.exhaustive++;
    }
    const passUsers = await scheduling.findDailyPassUsers(dailyPassSlot(now), DAILY_PASS_SLOTS, batch);
    for (const userId of passUsers) {
      const { added } = await jobs.enqueue(
        { name: JobName.SyncUser, data: { userId, trigger: 'scheduled', exhaustive: true } },
        { priority: SyncPriority.Background },
      );
      if (added) summary.dailyPass++;
    }
    if (summary.due > 0 || summary.dailyPass > 0) logger.info({ ...summary }, 'syncs scheduled');
    return summary;
  }
}
