import type { Redis } from 'ioredis';
import { type QueueName } from './queue-name.enum';

/**
 * How long job start records are kept. BullMQ drops completed jobs at once (removeOnComplete), so how long jobs
 * waited before a worker took them is kept here instead, for the stats job's "mean wait" figure.
 */
export const JOB_WAIT_RETENTION_MS = 60 * 60_000;

/** The fields of a BullMQ job that say when it became runnable and when a worker took it. */
export interface StartedJob {
  id?: string | undefined;
  timestamp: number;
  delay: number;
  processedOn?: number | undefined;
  attemptsMade: number;
}

export interface JobWaitSummary {
  /** Jobs a worker started in the window. */
  started: number;
  /** Mean time those jobs spent runnable before a worker took them; null when none started. */
  meanWaitMs: number | null;
  maxWaitMs: number | null;
}

/** Inside the queue's own key space, so obliterating a queue removes it too. */
export function jobWaitsKey(prefix: string, queue: QueueName): string {
  return `${prefix}:${queue}:tributary:waits`;
}

/** How long the job waited: from when it became runnable (after its delay or backoff) to its start. */
export function jobWaitMs(job: StartedJob, startedAt: number): number {
  return Math.max(0, startedAt - (job.timestamp + Math.max(0, job.delay)));
}

/**
 * Records one job start in a sorted set scored by start time; entries older than the retention are trimmed on the
 * way, so the set stays small without a separate clean-up.
 */
export async function recordJobStart(client: Redis, prefix: string, queue: QueueName, job: StartedJob): Promise<void> {
  const startedAt = job.processedOn ?? Date.now();
  const wait = jobWaitMs(job, startedAt);
  const key = jobWaitsKey(prefix, queue);
  await client
    .multi()
    .zadd(key, startedAt, `${startedAt}:${wait}:${job.id ?? '?'}:${job.attemptsMade}`)
    .zremrangebyscore(key, '-inf', `(${startedAt - JOB_WAIT_RETENTION_MS}`)
    .exec();
}

/** Starts recorded since `since` (ms epoch). */
export async function readJobWaits(
  client: Redis,
  prefix: string,
  queue: QueueName,
  since: number,
): Promise<JobWaitSummary> {
  const members = await client.zrangebyscore(jobWaitsKey(prefix, queue), since, '+inf');
  const waits = members.map((m) => Number(m.split(':')[1])).filter((n) => Number.isFinite(n));
  if (waits.length === 0) return { started: 0, meanWaitMs: null, maxWaitMs: null };
  return {
    started: waits.length,
    meanWaitMs: waits.reduce((a, b) => a + b, 0) / waits.length,
    maxWaitMs: waits.reduce((a, b) => Math.max(a, b), 0),
  };
}
