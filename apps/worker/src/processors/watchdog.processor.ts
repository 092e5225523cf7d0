import { Inject, Injectable } from '@nestjs/common';
import { ConfigError } from '@tributary/common';
import { SyncRunRepository, UserRepository } from '@tributary/db';
import { JobName, JobStatus, OnJob, QueueName, syncTimingFromConfig } from '@tributary/queue';
import { SyncWatchdog } from '../scheduling/sync-watchdog.service';
import { WORKER_DEPS } from '../worker.tokens';
import { type WorkerDependencies } from '../worker.module';

/** Runs the cluster's watchdog job (a BullMQ job scheduler, every minute): recovers syncs of unresponsive workers. */
@Injectable()
export class WatchdogProcessor {
  private readonly watchdog?: SyncWatchdog;

  constructor(@Inject(WORKER_DEPS) deps: WorkerDependencies) {
    if (deps.database !== undefined) {
      const timing = syncTimingFromConfig(deps.config.worker);
      this.watchdog = new SyncWatchdog({
        staleAfterMs: timing.staleHeartbeatMs,
        staleListingAfterMs: timing.staleListingHeartbeatMs,
        users: new UserRepository(deps.database.db),
        syncRuns: new SyncRunRepository(deps.database.db),
        jobs: deps.jobs,
        logger: deps.logger.child({ component: 'watchdog' }),
      });
    }
  }

  @OnJob({ name: JobName.Watchdog, queue: QueueName.Watchdog })
  async recoverStaleRuns(): Promise<JobStatus> {
    if (this.watchdog === undefined) throw new ConfigError('The watchdog needs a database; none was given');
    await this.watchdog.run(new Date());
    return JobStatus.Success;
  }
}
