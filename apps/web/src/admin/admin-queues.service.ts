import type { Queue } from 'bullmq';
import { describeError, type Logger } from '@tributary/common';
import { type JobService, QueueName } from '@tributary/queue';

export interface WorkerReport {
  name: string;
  addr: string;
  ageSeconds: number;
  idleSeconds: number;
}

export interface FailedJobReport {
  id: string;
  name: string;
  reason: string;
  attempts: number;
  failedAt: Date | null;
  /** BullMQ gave up on it because its worker kept dying (lock lost too often), not because the handler threw. */
  stalled: boolean;
}

export interface SchedulerReport {
  id: string;
  everyMs: number | null;
  next: Date | null;
}

export interface QueueReport {
  name: string;
  paused: boolean;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  oldestWaitingMs: number | null;
  /** Active jobs whose lock has lapsed: their worker died and BullMQ's stalled check has not moved them yet. */
  stalled: number;
  /** Null when Redis refuses CLIENT LIST (some managed services do). */
  workers: WorkerReport[] | null;
  recentFailures: FailedJobReport[];
  schedulers: SchedulerReport[];
  /** Set when the queue could not be read at all; the other figures are then zero. */
  error?: string;
}

/** Active jobs checked for a lapsed lock, and failed jobs listed, per queue. */
const ACTIVE_SCAN = 200;
const RECENT_FAILURES = 10;

/** What BullMQ writes as failedReason when a job exceeded maxStalledCount. */
const STALLED_REASON = /stalled/i;

/**
 * Reads BullMQ's own bookkeeping for the admin overview. Read-only: every change an admin makes goes through the
 * audited actions (requeue, unlock), never through the queues directly.
 */
export class AdminQueuesService {
  constructor(
    private readonly jobs: JobService | null,
    private readonly logger: Logger,
  ) {}

  get available(): boolean {
    return this.jobs !== null;
  }

  async report(): Promise<QueueReport[]> {
    const jobs = this.jobs;
    if (jobs === null) return [];
    return Promise.all(Object.values(QueueName).map((name) => this.queueReport(jobs, name)));
  }

  private async queueReport(jobs: JobService, name: QueueName): Promise<QueueReport> {
    try {
      const queue = jobs.queue(name);
      const [counts, paused, stalled, workers, recentFailures, schedulers] = await Promise.all([
        jobs.counts(name),
        queue.isPaused(),
        this.stalledCount(queue),
        this.workers(queue),
        this.recentFailures(queue),
        queue.getJobSchedulers(0, 49, true),
      ]);
      return {
        name,
        paused,
        ...counts,
        stalled,
        workers,
        recentFailures,
        schedulers: schedulers.map((s) => ({
          id: s.id ?? s.key,
          everyMs: s.every ?? null,
          next: s.next === undefined ? null : new Date(s.next),
        })),
      };
    } catch (err) {
      this.logger.warn({ err, queue: name }, 'could not read a queue for the admin page');
      return {
        name,
        paused: false,
        waiting: 0,
        active: 0,
        delayed: 0,
        failed: 0,
        oldestWaitingMs: null,
        stalled: 0,
        workers: null,
        recentFailures: [],
        schedulers: [],
        error: describeError(err),
      };
    }
  }

  private async stalledCount(queue: Queue): Promise<number> {
    const active = await queue.getJobs(['active'], 0, ACTIVE_SCAN - 1);
    if (active.length === 0) return 0;
    const client = await queue.getBackend().client;
    // A live worker renews `<job>:lock` every lockDuration/2; a job without one is held by nobody.
    const locks = await Promise.all(active.map((job) => client.get(queue.toKey(`${job.id ?? ''}:lock`))));
    return locks.filter((lock) => lock === null).length;
  }

  private async workers(queue: Queue): Promise<WorkerReport[] | null> {
    try {
      const clients = await queue.getWorkers();
      return clients.map((c) => ({
        name: c.rawname ?? c.name ?? '',
        addr: c.addr ?? '',
        ageSeconds: Number(c.age ?? 0),
        idleSeconds: Number(c.idle ?? 0),
      }));
    } catch (err) {
      this.logger.debug({ err, queue: queue.name }, 'CLIENT LIST refused; workers not listed');
      return null;
    }
  }

  private async recentFailures(queue: Queue): Promise<FailedJobReport[]> {
    const failed = await queue.getJobs(['failed'], 0, RECENT_FAILURES - 1);
    return failed.map((job) => ({
      id: job.id ?? '',
      name: job.name,
      reason: (job.failedReason ?? '').slice(0, 500),
      attempts: job.attemptsMade,
      failedAt: job.finishedOn === undefined ? null : new Date(job.finishedOn),
      stalled: STALLED_REASON.test(job.failedReason ?? ''),
    }));
  }
}
