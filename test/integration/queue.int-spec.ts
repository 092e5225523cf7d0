import { randomBytes } from 'node:crypto';
import { connectRedis, createLogger, PermanentError, type RedisConnection } from '@tributary/common';
import {
  JobName,
  JobService,
  JobStatus,
  JobWorkers,
  OnJob,
  QueueName,
  collectJobHandlers,
  type JobOf,
} from '@tributary/queue';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const silent = createLogger({ level: 'silent' });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new PermanentError('test_timeout', 'condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe(JobService.name, () => {
  let redis: RedisConnection;
  let prefix: string;
  let sut: JobService;

  beforeEach(async () => {
    redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
    prefix = `test-${randomBytes(6).toString('hex')}`;
    sut = new JobService(redis, prefix);
  });

  afterEach(async () => {
    for (const name of Object.values(QueueName)) await sut.queue(name).obliterate({ force: true });
    await sut.close();
    const cleanup = redis.createClient('cleanup');
    const keys = await cleanup.keys(`${prefix}:*`);
    if (keys.length > 0) await cleanup.del(...keys);
    await redis.close();
  });

  it('should queue one job when the same user is enqueued twice', async () => {
    const first = await sut.enqueue({ name: JobName.SyncUser, data: { userId: 'u1', trigger: 'manual' } });
    const second = await sut.enqueue({ name: JobName.SyncUser, data: { userId: 'u1', trigger: 'webhook' } });
    await sut.enqueue({ name: JobName.SyncUser, data: { userId: 'u2', trigger: 'manual' } });

    expect(first).toEqual({ jobId: 'sync-user-u1', added: true });
    expect(second).toEqual({ jobId: 'sync-user-u1', added: false });
    const waiting = await sut.queue(QueueName.Sync).getWaiting();
    expect(waiting.map((j) => j.id).sort()).toEqual(['sync-user-u1', 'sync-user-u2']);
    expect(waiting.find((j) => j.id === 'sync-user-u1')?.data).toEqual({ userId: 'u1', trigger: 'manual' });
    const counts = await sut.counts(QueueName.Sync);
    expect(counts).toMatchObject({ waiting: 2, active: 0, delayed: 0, failed: 0 });
    expect(counts.oldestWaitingMs).toEqual(expect.any(Number));
  });

  it('should run the handler, fail permanent errors without retries, and allow re-queueing a failed job', async () => {
    const seen: string[] = [];
    class Handlers {
      @OnJob({ name: JobName.SyncUser, queue: QueueName.Sync })
      sync(data: JobOf<JobName.SyncUser>): Promise<JobStatus> {
        seen.push(data.userId);
        if (data.userId === 'revoked') return Promise.reject(new PermanentError('token_revoked', 'token revoked'));
        return Promise.resolve(JobStatus.Success);
      }
    }
    const workers = new JobWorkers({ connection: redis, prefix, logger: silent });
    workers.start(collectJobHandlers([new Handlers()], [JobName.SyncUser]));
    try {
      await sut.enqueue({ name: JobName.SyncUser, data: { userId: 'ok', trigger: 'manual' } });
      await sut.enqueue({ name: JobName.SyncUser, data: { userId: 'revoked', trigger: 'manual' } });
      const queue = sut.queue(QueueName.Sync);
      await waitFor(async () => (await queue.getFailedCount()) === 1 && seen.includes('ok'));

      const failed = await queue.getJob('sync-user-revoked');
      expect(failed?.attemptsMade).toBe(1);
      expect(failed?.failedReason).toBe('PermanentError: token revoked');
      expect(await queue.getJob('sync-user-ok')).toBeUndefined(); // removeOnComplete

      // The kept failed job must not block the user's next sync.
      const again = await sut.enqueue({ name: JobName.SyncUser, data: { userId: 'revoked', trigger: 'manual' } });
      expect(again.added).toBe(true);
      await waitFor(() => seen.filter((u) => u === 'revoked').length === 2);
    } finally {
      await workers.close(5000);
    }
  });

  it('should wait for the active job when closing workers', async () => {
    const started = deferred();
    const release = deferred();
    let finished = false;
    class SlowHandlers {
      @OnJob({ name: JobName.SyncUser, queue: QueueName.Sync })
      async sync(): Promise<JobStatus> {
        started.resolve();
        await release.promise;
        finished = true;
        return JobStatus.Success;
      }
    }
    const workers = new JobWorkers({ connection: redis, prefix, logger: silent });
    workers.start(collectJobHandlers([new SlowHandlers()], [JobName.SyncUser]));
    await sut.enqueue({ name: JobName.SyncUser, data: { userId: 'slow', trigger: 'manual' } });
    await started.promise;

    let closed = false;
    const closing = workers.close(5000).then((r) => {
      closed = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(closed).toBe(false);
    release.resolve();
    await expect(closing).resolves.toEqual({ drained: true });
    expect(finished).toBe(true);
  });

  it('should give up waiting after the drain timeout', async () => {
    const started = deferred();
    const release = deferred();
    class StuckHandlers {
      @OnJob({ name: JobName.SyncUser, queue: QueueName.Sync })
      async sync(): Promise<JobStatus> {
        started.resolve();
        await release.promise;
        return JobStatus.Success;
      }
    }
    const workers = new JobWorkers({ connection: redis, prefix, logger: silent });
    workers.start(collectJobHandlers([new StuckHandlers()], [JobName.SyncUser]));
    await sut.enqueue({ name: JobName.SyncUser, data: { userId: 'stuck', trigger: 'manual' } });
    await started.promise;
    await expect(workers.close(300)).resolves.toEqual({ drained: false });
    release.resolve();
  });

  it('should upsert each cluster-wide schedule once, on its own role’s queue, however often it is called', async () => {
    await sut.upsertSchedulers();
    await sut.upsertSchedulers();
    const on = async (queue: QueueName) => (await sut.queue(queue).getJobSchedulers()).map((j) => [j.key, j.every]);
    expect(await on(QueueName.Stats)).toEqual([['stats-cron', 600000]]);
    expect(await on(QueueName.Scheduler)).toEqual([['schedule-syncs', 60000]]);
    expect(await on(QueueName.Watchdog)).toEqual([['watchdog', 60000]]);
    expect(await on(QueueName.Maintenance)).toEqual([]);
  });

  it('should remove the schedulers and queued runs an older release left on the shared maintenance queue', async () => {
    const legacy = sut.queue(QueueName.Maintenance);
    for (const name of [JobName.StatsCron, JobName.ScheduleSyncs, JobName.Watchdog]) {
      await legacy.upsertJobScheduler(name, { every: 60_000 }, { name, data: {} });
    }
    await legacy.add(JobName.Watchdog, {}, { jobId: 'leftover' });
    expect((await legacy.getJobSchedulers()).length).toBe(3);

    const result = await sut.upsertSchedulers();

    expect(result.retired.sort()).toEqual([JobName.ScheduleSyncs, JobName.StatsCron, JobName.Watchdog].sort());
    expect(await legacy.getJobSchedulers()).toEqual([]);
    expect(await legacy.getJobCounts('waiting', 'delayed', 'prioritized')).toEqual({
      waiting: 0,
      delayed: 0,
      prioritized: 0,
    });
    expect((await sut.upsertSchedulers()).retired).toEqual([]);
  });

  it('should count prioritized sync jobs in the oldest waiting age, from when they became runnable', async () => {
    const queue = sut.queue(QueueName.Sync);
    await sut.enqueue({ name: JobName.SyncUser, data: { userId: 'new', trigger: 'manual' } }, { priority: 1 });
    // An old low-priority job sits behind newer urgent ones in BullMQ's prioritized set.
    await queue.add(
      JobName.SyncUser,
      { userId: 'old', trigger: 'scheduled' },
      { jobId: 'sync-user-old', priority: 10, timestamp: Date.now() - 120_000 },
    );
    await sut.enqueue({ name: JobName.SyncUser, data: { userId: 'newer', trigger: 'scheduled' } }, { priority: 10 });
    await sut.enqueue({ name: JobName.SyncUser, data: { userId: 'mid', trigger: 'webhook' } }, { priority: 2 });
    await sut.enqueue({ name: JobName.SyncUser, data: { userId: 'later', trigger: 'manual' } }, { delayMs: 60_000 });

    const counts = await sut.counts(QueueName.Sync);

    expect(counts).toMatchObject({ waiting: 4, delayed: 1 });
    expect(counts.oldestWaitingMs).toBeGreaterThanOrEqual(120_000);
    expect(counts.oldestWaitingMs).toBeLessThan(180_000);
    expect((await sut.counts(QueueName.Stats)).oldestWaitingMs).toBeNull();
  });

  it('should record how long each started job waited, per queue', async () => {
    const workers = new JobWorkers({ connection: redis, prefix, logger: silent });
    const done: string[] = [];
    class Handlers {
      @OnJob({ name: JobName.SyncUser, queue: QueueName.Sync })
      sync(data: JobOf<JobName.SyncUser>): Promise<JobStatus> {
        done.push(data.userId);
        return Promise.resolve(JobStatus.Success);
      }
    }
    const since = Date.now();
    await sut
      .queue(QueueName.Sync)
      .add(
        JobName.SyncUser,
        { userId: 'waited', trigger: 'manual' },
        { jobId: 'sync-user-waited', timestamp: Date.now() - 30_000 },
      );
    await sut.enqueue({ name: JobName.SyncUser, data: { userId: 'fresh', trigger: 'manual' } });
    workers.start(collectJobHandlers([new Handlers()], [JobName.SyncUser]));
    try {
      await waitFor(() => done.length === 2);
    } finally {
      await workers.close();
    }

    const waits = await sut.recentWaits(QueueName.Sync, since);

    expect(waits.started).toBe(2);
    expect(waits.maxWaitMs).toBeGreaterThanOrEqual(30_000);
    expect(waits.meanWaitMs).toBeGreaterThanOrEqual(15_000);
    expect(waits.meanWaitMs).toBeLessThan(waits.maxWaitMs ?? 0);
    expect(await sut.recentWaits(QueueName.Sync, Date.now() + 1000)).toEqual({
      started: 0,
      meanWaitMs: null,
      maxWaitMs: null,
    });
    expect((await sut.recentWaits(QueueName.Stats, since)).started).toBe(0);
  });
});
