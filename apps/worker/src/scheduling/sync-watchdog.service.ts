import { NotFoundError, type Logger } from '@tributary/common';
import { type SyncRunRepository, type SyncRunRow, type UserRepository } from '@tributary/db';
import {
  JobName,
  STALE_HEARTBEAT_MS,
  STALE_LISTING_HEARTBEAT_MS,
  SyncPriority,
  type JobService,
} from '@tributary/queue';

/** Stale runs handled per watchdog run; more are handled a minute later. */
export const WATCHDOG_BATCH = 100;

/** The error code and message a run failed by the watchdog carries (shown in the user's sync history). */
export const WORKER_STOPPED_CODE = 'worker_stopped';
export const WORKER_STOPPED_MESSAGE = 'worker stopped responding';

export interface SyncWatchdogDependencies {
  users: Pick<UserRepository, 'releaseLease' | 'scheduleSync'>;
  syncRuns: Pick<SyncRunRepository, 'findStale' | 'finish'>;
  jobs: Pick<JobService, 'enqueue'>;
  logger: Logger;
  staleAfterMs?: number;
  staleListingAfterMs?: number;
  batch?: number;
}

export interface WatchdogSummary {
  stale: number;
  recovered: string[];
}

/** The sync processor names its listing phases `listing <service>`. */
export function isListingPhase(phase: string | null): boolean {
  return phase !== null && phase.startsWith('listing');
}

/**
 * Recovers syncs whose worker stopped sending heartbeats (tapiriik's sync_watchdog): the run is failed with a
 * reason the user can see, the user's lease is released (only if the dead run's worker still holds it, so a live
 * worker that took over is never robbed), and the user is queued again. A worker that is merely slow and heartbeats
 * later finds its run no longer running (heartbeat throws NotFoundError) and stops.
 *
 * Contract with the sync processor: it takes the user's lease under the same owner string it records as the run's
 * worker_id, and names listing phases `listing …`.
 */
export class SyncWatchdog {
  constructor(private readonly deps: SyncWatchdogDependencies) {}

  async run(now: Date): Promise<WatchdogSummary> {
    const { syncRuns, logger } = this.deps;
    const staleAfter = this.deps.staleAfterMs ?? STALE_HEARTBEAT_MS;
    const listingStaleAfter = this.deps.staleListingAfterMs ?? STALE_LISTING_HEARTBEAT_MS;
    const candidates = await syncRuns.findStale(
      new Date(now.getTime() - staleAfter),
      this.deps.batch ?? WATCHDOG_BATCH,
    );
    const stale = candidates.filter(
      (run) =>
        !isListingPhase(run.phase) ||
        run.heartbeat_at === null ||
        now.getTime() - run.heartbeat_at.getTime() > listingStaleAfter,
    );
    const recovered: string[] = [];
    for (const run of stale) {
      if (await this.recover(run, now)) recovered.push(run.id);
    }
    if (recovered.length > 0) logger.warn({ runs: recovered }, 'stale sync runs failed and their users queued again');
    return { stale: stale.length, recovered };
  }

  private async recover(run: SyncRunRow, now: Date): Promise<boolean> {
    const { users, syncRuns, jobs, logger } = this.deps;
    try {
      await syncRuns.finish(run.user_id, run.id, {
        status: 'failed',
        errors: [...run.errors, { code: WORKER_STOPPED_CODE, message: WORKER_STOPPED_MESSAGE }],
      });
    } catch (err) {
      // It finished (or was failed by another watchdog) since we read it: nothing to recover.
      if (err instanceof NotFoundError) return false;
      throw err;
    }
    const released = run.worker_id !== null && (await users.releaseLease(run.user_id, run.worker_id));
    // Durable request first: if the job below is a no-op because the stuck job is still active, the scheduler
    // queues the user once it is gone.
    await users.scheduleSync(run.user_id, { at: now, exhaustive: run.exhaustive });
    await jobs.enqueue(
      { name: JobName.SyncUser, data: { userId: run.user_id, trigger: 'scheduled', exhaustive: run.exhaustive } },
      { priority: SyncPriority.Scheduled },
    );
    logger.warn(
      { runId: run.id, userId: run.user_id, workerId: run.worker_id, phase: run.phase, leaseReleased: released },
      WORKER_STOPPED_MESSAGE,
    );
    return true;
  }
}
