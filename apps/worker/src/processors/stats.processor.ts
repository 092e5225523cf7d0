import { Inject, Injectable } from '@nestjs/common';
import { type Logger } from '@tributary/common';
import { JobName, JobService, JobStatus, OnJob, QueueName } from '@tributary/queue';
import { WORKER_DEPS } from '../worker.tokens';
import { type WorkerDependencies } from '../worker.module';

/** What the stats job writes; the StatsRepository of @tributary/db satisfies it. */
export interface StatsSink {
  record(metric: string, value: number, labels?: Record<string, string>, ts?: Date): Promise<void>;
}

/**
 * The periodic stats job (tapiriik's stats_cron): samples queue depth and how long the oldest waiting job has been
 * waiting, the figure behind "queued, approx. N minutes" and the diagnostics load graphs.
 */
@Injectable()
export class StatsProcessor {
  private readonly jobs: JobService;
  private readonly stats: StatsSink;
  private readonly logger: Logger;

  constructor(@Inject(WORKER_DEPS) deps: WorkerDependencies) {
    this.jobs = deps.jobs;
    this.stats = deps.stats;
    this.logger = deps.logger;
  }

  @OnJob({ name: JobName.StatsCron, queue: QueueName.Maintenance })
  async sampleQueues(): Promise<JobStatus> {
    const at = new Date();
    for (const queue of Object.values(QueueName)) {
      const counts = await this.jobs.counts(queue);
      const labels = { queue };
      await this.stats.record('queue_waiting', counts.waiting, labels, at);
      await this.stats.record('queue_active', counts.active, labels, at);
      await this.stats.record('queue_delayed', counts.delayed, labels, at);
      await this.stats.record('queue_failed', counts.failed, labels, at);
      await this.stats.record('queue_oldest_waiting_ms', counts.oldestWaitingMs ?? 0, labels, at);
      this.logger.info({ queue, ...counts }, 'queue stats sampled');
    }
    return JobStatus.Success;
  }
}
