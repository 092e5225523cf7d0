import { Inject, Injectable } from '@nestjs/common';
import { ConfigError } from '@tributary/common';
import { UserRepository } from '@tributary/db';
import { JobName, JobStatus, OnJob, QueueName } from '@tributary/queue';
import { SchedulingRepository } from '../scheduling/scheduling.repository';
import { SyncScheduler } from '../scheduling/sync-scheduler.service';
import { WORKER_DEPS } from '../worker.tokens';
import { type WorkerDependencies } from '../worker.module';

/** Runs the cluster's one scheduler job (a BullMQ job scheduler, every minute): queues due syncs, nothing else. */
@Injectable()
export class SchedulerProcessor {
  private readonly scheduler?: SyncScheduler;

  constructor(@Inject(WORKER_DEPS) deps: WorkerDependencies) {
    if (deps.database !== undefined) {
      this.scheduler = new SyncScheduler({
        users: new UserRepository(deps.database.db),
        scheduling: new SchedulingRepository(deps.database.db),
        jobs: deps.jobs,
        logger: deps.logger.child({ component: 'scheduler' }),
      });
    }
  }

  @OnJob({ name: JobName.ScheduleSyncs, queue: QueueName.Scheduler })
  async scheduleSyncs(): Promise<JobStatus> {
    if (this.scheduler === undefined) throw new ConfigError('The scheduler needs a database; none was given');
    await this.scheduler.run(new Date());
    return JobStatus.Success;
  }
}
