import { randomBytes } from 'node:crypto';
import { type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { connectRedis, createLogger, PermanentError, type RedisConnection } from '@tributary/common';
import { loadConfig, type WorkerRole } from '@tributary/config';
import { JobName, JobRegistryError, JobService, JobStatus, OnJob, QueueName } from '@tributary/queue';
import { sql } from 'kysely';
import { SyncUserProcessor } from '../../apps/worker/src/processors/sync-user.processor';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { openTestDb } from './support/test-db';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe(WorkerModule.name, () => {
  let redis: RedisConnection;
  let prefix: string;
  let jobs: JobService;

  beforeEach(async () => {
    redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
    prefix = `test-${randomBytes(6).toString('hex')}`;
    jobs = new JobService(redis, prefix);
  });

  afterEach(async () => {
    for (const name of Object.values(QueueName)) await jobs.queue(name).obliterate({ force: true });
    await jobs.close();
    const cleanup = redis.createClient('cleanup');
    const keys = await cleanup.keys(`${prefix}:*`);
    if (keys.length > 0) await cleanup.del(...keys);
    await redis.close();
  });

  function deps(roles: WorkerRole[]) {
    return {
      config: loadConfig({ WORKER_ROLES: roles.join(','), TRIBUTARY_QUEUE_PREFIX: prefix }),
      logger: createLogger({ level: 'silent' }),
      connection: redis,
      jobs,
      stats: { record: () => Promise.resolve() },
    };
  }

  function boot(roles: WorkerRole[]): Promise<INestApplicationContext> {
    return NestFactory.createApplicationContext(WorkerModule.forRoot(deps(roles)), {
      logger: false,
      abortOnError: false,
    });
  }

  it('should refuse to start when a job of an enabled role has two handlers', async () => {
    @Injectable()
    class SecondSyncHandler {
      @OnJob({ name: JobName.SyncUser, queue: QueueName.Sync })
      again(): Promise<JobStatus> {
        return Promise.resolve(JobStatus.Success);
      }
    }
    const booting = Test.createTestingModule({
      imports: [WorkerModule.forRoot(deps(['sync']))],
      providers: [SecondSyncHandler],
    })
      .compile()
      .then((moduleRef) => moduleRef.init());
    await expect(booting).rejects.toThrow(JobRegistryError);
  });

  it('should upsert every role’s scheduler on its own queue when booted with the scheduler role', async () => {
    const app = await boot(['scheduler']);
    try {
      for (const [queue, key] of [
        [QueueName.Stats, JobName.StatsCron],
        [QueueName.Scheduler, JobName.ScheduleSyncs],
        [QueueName.Watchdog, JobName.Watchdog],
      ] as const) {
        expect((await jobs.queue(queue).getJobSchedulers()).map((j) => j.key)).toEqual([key]);
      }
      expect(await jobs.queue(QueueName.Maintenance).getJobSchedulers()).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('should give a worker with only the stats role stats jobs and never a watchdog or scheduler job', async () => {
    const testDb = openTestDb({ poolSize: 2 });
    const database = {
      db: testDb.db,
      kind: 'server' as const,
      ping: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const since = new Date(Date.now() - 1000);
    const app = await NestFactory.createApplicationContext(WorkerModule.forRoot({ ...deps(['stats']), database }), {
      logger: false,
      abortOnError: false,
    });
    try {
      await jobs.enqueue({ name: JobName.Watchdog, data: {} });
      await jobs.enqueue({ name: JobName.ScheduleSyncs, data: {} });
      await jobs.enqueue({ name: JobName.StatsCron, data: {} });
      const deadline = Date.now() + 10_000;
      const statsQueueSamples = () =>
        testDb.db
          .selectFrom('stats_samples')
          .select(['metric', 'value'])
          .where('ts', '>=', since)
          .where(sql<boolean>`labels = ${JSON.stringify({ queue: QueueName.Watchdog })}::jsonb`)
          .execute();
      let samples = await statsQueueSamples();
      while (samples.length === 0) {
        if (Date.now() > deadline) throw new PermanentError('test_timeout', 'stats job did not run');
        await new Promise((r) => setTimeout(r, 50));
        samples = await statsQueueSamples();
      }
      // The stats job saw the watchdog job waiting: nobody took it, and it was not failed for want of a handler.
      expect(samples).toContainEqual({ metric: 'queue_waiting', value: 1 });
      expect(await jobs.queue(QueueName.Watchdog).getJobState(JobName.Watchdog)).toBe('waiting');
      expect(await jobs.queue(QueueName.Scheduler).getJobState(JobName.ScheduleSyncs)).toBe('waiting');
      expect((await jobs.counts(QueueName.Watchdog)).failed).toBe(0);
      expect((await jobs.recentWaits(QueueName.Stats, since.getTime())).started).toBe(1);
    } finally {
      await app.close();
      await testDb.close();
    }
  });

  it('should drain the active job before shutdown completes (what SIGTERM triggers)', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let markStarted!: () => void;
    const started = new Promise<void>((r) => (markStarted = r));
    const events: string[] = [];

    @Injectable()
    class SlowSyncProcessor {
      @OnJob({ name: JobName.SyncUser, queue: QueueName.Sync })
      async sync(): Promise<JobStatus> {
        markStarted();
        await released;
        events.push('job finished');
        return JobStatus.Success;
      }
    }

    const moduleRef = await Test.createTestingModule({
      imports: [WorkerModule.forRoot(deps(['sync']))],
    })
      .overrideProvider(SyncUserProcessor)
      .useValue(new SlowSyncProcessor())
      .compile();
    const app = await moduleRef.init();
    await jobs.enqueue({ name: JobName.SyncUser, data: { userId: 'u-slow', trigger: 'manual' } });
    await started;

    const closing = app.close().then(() => events.push('app closed'));
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toEqual([]);
    release();
    await closing;
    expect(events).toEqual(['job finished', 'app closed']);
  });
});
