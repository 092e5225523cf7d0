import { NotFoundError } from '@tributary/common';
import { type SyncRunRepository, type UserRepository } from '@tributary/db';
import { JobName, SyncPriority, isLongSyncGap, type JobService } from '@tributary/queue';
import { SyncNowCooldownError } from './sync-now.error';

export interface SyncNowDependencies {
  users: Pick<UserRepository, 'findById' | 'scheduleSync'>;
  syncRuns: Pick<SyncRunRepository, 'enqueue' | 'listRecent'>;
  jobs: Pick<JobService, 'enqueue'>;
  /** config.worker.syncNowCooldownSeconds */
  cooldownSeconds: number;
  now?: () => Date;
}

export interface SyncNowResult {
  runId: string;
  exhaustive: boolean;
  /** A sync was already queued or running; this request joined it (and raised its priority). */
  alreadyQueued: boolean;
}

/**
 * "Sync now" (tapiriik's POST /sync/schedule/now): refused for a short cooldown after the last sync or the last
 * press, exhaustive when the last sync is more than 14 days old (or never happened), queued at the highest priority.
 * The sync run row is created here so the page can show "queued" at once, and next_sync_at is set to now so the
 * scheduler queues the user again should the job itself be lost.
 */
export class SyncNowService {
  constructor(private readonly deps: SyncNowDependencies) {}

  /** Seconds until "Sync now" is accepted again (0 = now); the dashboard shows it next to the button. */
  async cooldownRemaining(userId: string): Promise<number> {
    const now = this.deps.now?.() ?? new Date();
    const user = await this.deps.users.findById(userId);
    if (user === undefined) throw new NotFoundError('user', userId);
    const [latest] = await this.deps.syncRuns.listRecent(userId, 1);
    const anchors = [user.last_sync_at, latest?.trigger === 'manual' ? latest.queued_at : null];
    const cooldownMs = this.deps.cooldownSeconds * 1000;
    const waitMs = Math.max(0, ...anchors.map((at) => (at === null ? 0 : at.getTime() + cooldownMs - now.getTime())));
    return Math.ceil(waitMs / 1000);
  }

  async request(userId: string): Promise<SyncNowResult> {
    const { users, syncRuns, jobs } = this.deps;
    const now = this.deps.now?.() ?? new Date();
    const wait = await this.cooldownRemaining(userId);
    if (wait > 0) throw new SyncNowCooldownError(wait);
    const user = await users.findById(userId);
    if (user === undefined) throw new NotFoundError('user', userId);

    const exhaustive = isLongSyncGap(user.last_sync_at, now);
    const { run, created } = await syncRuns.enqueue(userId, { trigger: 'manual', exhaustive });
    await users.scheduleSync(userId, { at: now, exhaustive });
    await jobs.enqueue(
      { name: JobName.SyncUser, data: { userId, trigger: 'manual', exhaustive } },
      { priority: SyncPriority.Manual },
    );
    return { runId: run.id, exhaustive: run.exhaustive, alreadyQueued: !created };
  }
}
