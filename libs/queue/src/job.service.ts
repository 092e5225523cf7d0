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
import { type JobWaitSummary, readJobWaits } from './job-waits.util';
import { JobName, QueueName } from './queue-name.enum';

/** BullMQ scores a prioritized job priority × 2^32 + a counter (its getPriorityScore). */
const PRIORITY_BAND = 0x100000000;

/** The periodic jobs, each under one BullMQ job scheduler (id = the job's deterministic id). */
const SCHEDULES = [
  { item: { name: JobName.StatsCron, data: {} }, every: STATS_CRON_EVERY_MS },
  { item: { name: JobName.ScheduleSyncs, data: {} }, every: SCHEDULE_SYNCS_EVERY_MS },
  { item: { name: JobName.Watchdog, data: {} }, every: WATCHDOG_EVERY_MS },
] as const satisfies readonly { item: JobItem; every: number }[];

export interface SchedulerUpsertResult {
  /** Scheduler ids now in place, each on its job's queue. */
  upserted: string[];
  /** Schedulers removed from the retired shared maintenance queue. */
  retired: string[];
}

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

  private redis(): Redis {
    this.client ??= this.connection.createClient('producer');
    return this.client;
  }

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, { connection: this.redis(), prefix: this.prefix });
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
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      oldestWaitingMs: await this.oldestWaitingMs(queue),
    };
  }

  /**
   * Age of the oldest runnable job, counted from when it became runnable (after its delay). Every sync job carries a
   * priority, so those wait in BullMQ's `prioritized` set, scored priority × 2^32 + an insertion counter: ordered by
   * priority, then by age. The oldest job of each priority is therefore the first of its band, found with one range
   * query per priority in use (a handful), whatever the backlog; /metrics scrapes call this too. A job whose priority
   * was raised after it was queued sits behind younger ones of its new band and may be missed.
   */
  private async oldestWaitingMs(queue: Queue): Promise<number | null> {
    const client = this.redis();
    const now = Date.now();
    // The wait list is FIFO: BullMQ pushes on the left and workers take from the right, so the oldest is last.
    const ids = await client.lrange(queue.toKey('wait'), -1, -1);
    const prioritized = queue.toKey('prioritized');
    for (let min = 0; ;) {
      const [id, score] = await client.zrangebyscore(prioritized, min, '+inf', 'WITHSCORES', 'LIMIT', 0, 1);
      if (id === undefined || score === undefined) break;
      ids.push(id);
      min = (Math.floor(Number(score) / PRIORITY_BAND) + 1) * PRIORITY_BAND;
    }
    if (ids.length === 0) return null;
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.hmget(queue.toKey(id), 'timestamp', 'delay');
    let oldest: number | null = null;
    for (const [err, fields] of (await pipeline.exec()) ?? []) {
      const [timestamp, delay] = (err === null ? fields : [null, null]) as [string | null, string | null];
      const ts = Number(timestamp);
      if (timestamp === null || !Number.isFinite(ts)) continue;
      const runnableAt = ts + Math.max(0, Number(delay) || 0);
      oldest = oldest === null ? runnableAt : Math.min(oldest, runnableAt);
    }
    return oldest === null ? null : Math.max(0, now - oldest);
  }

  /** Jobs workers started on the queue since `since` (ms epoch) and how long they had waited. */
  async recentWaits(name: QueueName, since: number): Promise<JobWaitSummary> {
    return readJobWaits(this.redis(), this.prefix, name, since);
  }

  /**
   * Creates or updates the cluster-wide schedules, each on its job's own queue. BullMQ keeps one scheduler per id, so
   * every pod may call this at boot and each job still fires once per interval for the whole cluster.
   *
   * Releases before per-role queues put all three on the shared maintenance queue; those schedulers (and the next
   * runs they had queued) are removed here, or every worker of an older release would keep getting jobs of roles it
   * does not have. Anything else still waiting there is dropped: these jobs are periodic and the next run covers it.
   */
  async upsertSchedulers(): Promise<SchedulerUpsertResult> {
    const upserted: string[] = [];
    for (const { item, every } of SCHEDULES) {
      await this.queue(JOB_QUEUE[item.name]).upsertJobScheduler(
        jobIdFor(item),
        { every },
        { name: item.name, data: item.data, opts: JOB_OPTIONS[item.name] },
      );
      upserted.push(jobIdFor(item));
    }
    const legacy = this.queue(QueueName.Maintenance);
    const retired: string[] = [];
    for (const scheduler of await legacy.getJobSchedulers()) {
      if (await legacy.removeJobScheduler(scheduler.key)) retired.push(scheduler.key);
    }
    if (retired.length > 0) await legacy.drain(true);
    return { upserted, retired };
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
