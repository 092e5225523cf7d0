import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOB_QUEUE, type JobItem } from './job-item.types';
import {
  JOB_OPTIONS,
  SCHEDULE_SYNCS_EVERY_MS,
  STATS_CRON_EVERY_MS,
  WATCHDOG_EVERY_MS,
  jobIdFor,
} from './job-options.constants';
import { JobName, type QueueName } from './queue-name.enum';

export interface QueueConnection {
  /** Creates a BullMQ-ready client (maxRetriesPerRequest: null); the caller's connection owns and closes it. */
  createClient(name?: string): Redis;
}

/** The only knobs a producer may turn; attempts, backoff and retention come from JOB_OPTIONS. */
export interface EnqueueOptions {
  delayMs?: number;
  /** 1 is highest. */
  priority?: number;
}

export interface EnqueueResult {
  jobId: string;
  /** False when a job with the same id was already waiting, delayed or running, so nothing new was queued. */
  added: boolean;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** Age of the oldest waiting job, the "how long until my sync starts" figure; null when nothing waits. */
  oldestWaitingMs: number | null;
}

/** Typed producer over BullMQ: the only way code puts work on a queue. */
export class JobService {
  private readonly queues = new Map<QueueName, Queue>();
  private client?: Redis;

  constructor(
    private readonly connection: QueueConnection,
    /** Redis key prefix for every queue (TRIBUTARY_QUEUE_PREFIX); tests use a unique one per run. */
    readonly prefix: string,
  ) {}

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      this.client ??= this.connection.createClient('producer');
      queue = new Queue(name, { connection: this.client, prefix: this.prefix });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Queues a job under its deterministic id. While a job with that id is waiting, delayed or active, this is a
   * no-op. A finished job still stored under the id (failed jobs are kept) is removed first, since BullMQ would
   * otherwise ignore the new job forever; its outcome is already recorded in Postgres.
   *
   * A request that is more urgent than the job already queued upgrades it instead of being dropped: a higher
   * priority (lower number) is applied, a request without delay promotes a delayed job, and an exhaustive sync
   * request makes a queued partial one exhaustive. So "Sync now" is not stuck behind a queued low-priority sync.
   */
  async enqueue(item: JobItem, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    const queue = this.queue(JOB_QUEUE[item.name]);
    const jobId = jobIdFor(item);
    const state = await queue.getJobState(jobId);
    if (state === 'completed' || state === 'failed') await queue.remove(jobId);
    const fresh = state === 'unknown' || state === 'completed' || state === 'failed';
    if (state === 'waiting' || state === 'prioritized' || state === 'delayed') {
      await this.upgradeQueued(queue, jobId, state, item, options);
    }
    await queue.add(item.name, item.data, {
      ...JOB_OPTIONS[item.name],
      jobId,
      ...(options.delayMs === undefined ? {} : { delay: options.delayMs }),
      ...(options.priority === undefined ? {} : { priority: options.priority }),
    });
    return { jobId, added: fresh };
  }

  private async upgradeQueued(
    queue: Queue,
    jobId: string,
    state: 'waiting' | 'prioritized' | 'delayed',
    item: JobItem,
    options: EnqueueOptions,
  ): Promise<void> {
    const job = await queue.getJob(jobId);
    if (job === undefined) return;
    const current = job.priority;
    // 0 means "no priority", which BullMQ serves before every prioritized job; never downgrade it.
    if (options.priority !== undefined && current !== 0 && options.priority < current) {
      await job.changePriority({ priority: options.priority });
    }
    if (
      item.name === JobName.SyncUser &&
      item.data.exhaustive === true &&
      (job.data as { exhaustive?: boolean }).exhaustive !== true
    ) {
      await job.updateData({ ...(job.data as object), exhaustive: true });
    }
    if (state === 'delayed' && (options.delayMs ?? 0) === 0) await job.promote();
  }

  async counts(name: QueueName): Promise<QueueCounts> {
    const queue = this.queue(name);
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
    // BullMQ lists waiting jobs newest first; the oldest is at the end.
    const [oldest] = await queue.getJobs(['wait'], -1, -1);
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      oldestWaitingMs: oldest === undefined ? null : Math.max(0, Date.now() - oldest.timestamp),
    };
  }

  /**
   * Creates or updates the cluster-wide schedules. BullMQ keeps one scheduler per id, so every pod may call this at
   * boot and each job still fires once per interval for the whole cluster.
   */
  async upsertSchedulers(): Promise<string[]> {
    const schedules = [
      { item: { name: JobName.StatsCron, data: {} }, every: STATS_CRON_EVERY_MS },
      { item: { name: JobName.ScheduleSyncs, data: {} }, every: SCHEDULE_SYNCS_EVERY_MS },
      { item: { name: JobName.Watchdog, data: {} }, every: WATCHDOG_EVERY_MS },
    ] as const satisfies readonly { item: JobItem; every: number }[];
    const ids: string[] = [];
    for (const { item, every } of schedules) {
      await this.queue(JOB_QUEUE[item.name]).upsertJobScheduler(
        jobIdFor(item),
        { every },
        { name: item.name, data: item.data, opts: JOB_OPTIONS[item.name] },
      );
      ids.push(jobIdFor(item));
    }
    return ids;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
