import { Inject, Injectable } from '@nestjs/common';
import { ConfigError } from '@tributary/common';
import { StatsRepository } from '@tributary/db';
import { JobName, JobStatus, OnJob, QueueName } from '@tributary/queue';
import { StatsCronService } from '../stats/stats-cron.service';
import { StatsSourcesRepository } from '../stats/stats-sources.repository';
import { WORKER_DEPS } from '../worker.tokens';
import { type WorkerDependencies } from '../worker.module';

/** Something samples can be written to one at a time; the StatsRepository of @tributary/db satisfies it. */
export interface StatsSink {
  record(metric: string, value: number, labels?: Record<string, string>, ts?: Date): Promise<void>;
}

/** Runs the cluster's stats job (a BullMQ job scheduler, every STATS_CRON_EVERY_MS); see StatsCronService. */
@Injectable()
export class StatsProcessor {
  private readonly cron?: StatsCronService;

  constructor(@Inject(WORKER_DEPS) deps: WorkerDependencies) {
    if (deps.database !== undefined) {
      this.cron = new StatsCronService({
        sources: new StatsSourcesRepository(deps.database.db),
        stats: new StatsRepository(deps.database.db),
        jobs: deps.jobs,
        logger: deps.logger.child({ component: 'stats' }),
        options: deps.config.stats,
      });
    }
  }

  @OnJob({ name: JobName.StatsCron, queue: QueueName.Stats })
  async sample(): Promise<JobStatus> {
    // Checked per job, not at boot: workers without the stats role construct this provider too.
    if (this.cron === undefined) throw new ConfigError('The stats job needs a database; none was given');
    await this.cron.run(new Date());
    return JobStatus.Success;
  }
}
