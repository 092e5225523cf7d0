import { NotFoundError } from '@tributary/common';
import { type ActivityQueryRepository, type SyncRunRepository, type UserRepository } from '@tributary/db';
import { JobName, type JobService, SyncPriority } from '@tributary/queue';

export interface ActivityResyncDependencies {
  queries: Pick<ActivityQueryRepository, 'resetForResync'>;
  users: Pick<UserRepository, 'findById' | 'scheduleSync'>;
  syncRuns: Pick<SyncRunRepository, 'enqueue' | 'listRecent'>;
  /** Absent when the web app runs without queues: the scheduler then picks up next_sync_at. */
  jobs?: Pick<JobService, 'enqueue'>;
  /** config.worker.syncNowCooldownSeconds: the same guard as "Sync now", so the button cannot hammer services. */
  cooldownSeconds: number;
  now?: () => Date;
}

export interface ActivityResyncResult {
  /** A sync was queued now (or an active one will pick the activity up). */
  queued: boolean;
  /** When the cooldown held the sync back: it starts by itself after this many seconds. */
  startsInSeconds?: number;
}

/**
 * "Resync" for one activity: the hub forgets its failures and exclusions, then asks for an exhaustive sync (a partial
 * listing may not reach back to an older activity, so only a full one is sure to see it again). Within the "Sync now"
 * cooldown the sync is scheduled for the end of it instead of refused: the reset is already done and nothing is lost.
 */
export class ActivityResyncService {
  constructor(private readonly deps: ActivityResyncDependencies) {}

  async resync(userId: string, recordId: string): Promise<ActivityResyncResult> {
    const { queries, users, syncRuns, jobs } = this.deps;
    if (!(await queries.resetForResync(userId, recordId))) throw new NotFoundError('activity', recordId);
    const now = this.deps.now?.() ?? new Date();
    const user = await users.findById(userId);
    if (user === undefined) throw new NotFoundError('user', userId);
    const [latest] = await syncRuns.listRecent(userId, 1);
    const cooldownMs = this.deps.cooldownSeconds * 1000;
    const anchors = [user.last_sync_at, latest?.trigger === 'manual' ? latest.queued_at : null];
    const waitMs = Math.max(0, ...anchors.map((at) => (at === null ? 0 : at.getTime() + cooldownMs - now.getTime())));
    if (waitMs > 0 || jobs === undefined) {
      await users.scheduleSync(userId, { at: new Date(now.getTime() + waitMs), exhaustive: true });
      return { queued: false, startsInSeconds: Math.ceil(waitMs / 1000) };
    }
    await syncRuns.enqueue(userId, { trigger: 'manual', exhaustive: true });
    await users.scheduleSync(userId, { at: now, exhaustive: true });
    await jobs.enqueue(
      { name: JobName.SyncUser, data: { userId, trigger: 'manual', exhaustive: true } },
      { priority: SyncPriority.Manual },
    );
    return { queued: true };
  }
}
