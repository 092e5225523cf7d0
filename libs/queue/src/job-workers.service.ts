import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeError, isDomainError, type Logger } from '@tributary/common';
import { isJobName, type JobStatus } from './job-item.types';
import { DEFAULT_QUEUE_CONCURRENCY, WORKER_DRAIN_TIMEOUT_MS, WORKER_STALL_OPTIONS } from './job-options.constants';
import { recordJobStart } from './job-waits.util';
import { type RegisteredHandler } from './on-job.decorator';
import { type QueueConnection } from './job.service';
import { type JobName, type QueueName } from './queue-name.enum';
import { type StallOptions } from './sync-timing.util';

export interface JobWorkersOptions {
  connection: QueueConnection;
  prefix: string;
  logger: Logger;
  concurrency?: Partial<Record<QueueName, number>>;
  /** BullMQ lock duration; a job whose worker dies is retried after this (the stalled check). */
  lockDurationMs?: number;
  /** Stalled-job detection derived from the watchdog's thresholds (syncTiming); WORKER_STALL_OPTIONS otherwise. */
  stall?: StallOptions;
}

/**
 * Runs registered handlers: one BullMQ Worker per queue that has handlers. Retryable errors are rethrown so BullMQ
 * retries them with the job's backoff; permanent DomainErrors fail the job at once without using up attempts.
 */
export class JobWorkers {
  private readonly workers: Worker[] = [];
  /** Records job starts for the stats job's wait figures; apart from the workers' blocking connections. */
  private waitsClient?: Redis;

  constructor(private readonly options: JobWorkersOptions) {}

  get running(): readonly Worker[] {
    return this.workers;
  }

  start(handlers: ReadonlyMap<JobName, RegisteredHandler>): void {
    const byQueue = new Map<QueueName, Map<JobName, RegisteredHandler>>();
    for (const handler of handlers.values()) {
      const forQueue = byQueue.get(handler.queue) ?? new Map<JobName, RegisteredHandler>();
      forQueue.set(handler.name, handler);
      byQueue.set(handler.queue, forQueue);
    }
    for (const [queue, queueHandlers] of byQueue) {
      const concurrency = this.options.concurrency?.[queue] ?? DEFAULT_QUEUE_CONCURRENCY[queue];
      const worker = new Worker(queue, (job: Job) => this.run(queue, queueHandlers, job), {
        connection: this.options.connection.createClient(`worker:${queue}`),
        prefix: this.options.prefix,
        concurrency,
        ...(this.options.stall ?? WORKER_STALL_OPTIONS),
        ...(this.options.lockDurationMs === undefined ? {} : { lockDuration: this.options.lockDurationMs }),
      });
      worker.on('error', (err) => this.options.logger.error({ err, queue }, 'queue worker error'));
      this.workers.push(worker);
      this.options.logger.info({ queue, concurrency, jobs: [...queueHandlers.keys()] }, 'processing queue');
    }
  }

  private async run(queue: QueueName, handlers: ReadonlyMap<JobName, RegisteredHandler>, job: Job): Promise<JobStatus> {
    const handler = isJobName(job.name) ? handlers.get(job.name) : undefined;
    const log = this.options.logger.child({ jobId: job.id, job: job.name, attempt: job.attemptsMade + 1 });
    this.waitsClient ??= this.options.connection.createClient('job-waits');
    // Statistics only: a Redis hiccup here must not fail the job.
    await recordJobStart(this.waitsClient, this.options.prefix, queue, job).catch((err: unknown) =>
      log.warn({ err }, 'could not record the job start'),
    );
    if (handler === undefined) {
      // Only possible when an older or newer release queued a job this build does not know.
      log.error('no handler for job; failing it without retries');
      throw new UnrecoverableError(`No handler for job ${job.name}`);
    }
    const started = Date.now();
    try {
      const status = await handler.handle(job.data as never, { jobId: job.id ?? '', attempt: job.attemptsMade + 1 });
      log.info({ status, durationMs: Date.now() - started }, 'job finished');
      return status;
    } catch (err) {
      if (isDomainError(err) && !err.retryable) {
        log.warn({ err, durationMs: Date.now() - started }, 'job failed permanently');
        throw new UnrecoverableError(describeError(err));
      }
      log.error({ err, durationMs: Date.now() - started }, 'job failed; retried while attempts remain');
      throw err;
    }
  }

  /**
   * Stops taking new jobs and waits for active ones to finish, up to `timeoutMs`. Jobs still running after that keep
   * their lock until it expires, then BullMQ's stalled check hands them to another worker.
   */
  async close(timeoutMs = WORKER_DRAIN_TIMEOUT_MS): Promise<{ drained: boolean }> {
    if (this.workers.length === 0) return { drained: true };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const closed = Promise.all(this.workers.map((w) => w.close())).then(() => true as const);
    const drained = await Promise.race([closed, timedOut]).finally(() => clearTimeout(timer));
    if (!drained) {
      this.options.logger.warn({ timeoutMs }, 'shutdown timed out with jobs still active; they will be retried');
    }
    this.workers.length = 0;
    const waits = this.waitsClient;
    this.waitsClient = undefined;
    await waits?.quit().catch(() => undefined);
    return { drained };
  }
}
