import { randomBytes } from 'node:crypto';
import { type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { connectRedis, createLogger, PermanentError, type RedisConnection } from '@tributary/common';
import { loadConfig, type WorkerRole } from '@tributary/config';
import { JobName, JobRegistryError, JobService, JobStatus, OnJob, QueueName } from '@tributary/queue';
import { SyncUserProcessor } from '../../apps/worker/src/processors/sync-user.processor';
import { WorkerModule } from '../../apps/worker/src/worker.module';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe(WorkerModule.name, () => {
  let redis: RedisConnection;
  let prefix: string;
  let jobs: JobService;
  let samples: { metric: string; value: number; labels?: Record<string, string> }[];

  beforeEach(async () => {
    redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
    prefix = `test-${randomBytes(6).toString('hex')}`;
    jobs = new JobService(redis, prefix);
    samples = [];
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
      stats: {
        record: (metric: string, value: number, labels?: Record<string, string>) => {
          samples.push({ metric, value, labels });
          return Promise.resolve();
        },
      },
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

  it('should upsert the schedulers and run the stats job for the stats and scheduler roles', async () => {
    const app = await boot(['stats', 'scheduler']);
    try {
      expect((await jobs.queue(QueueName.Maintenance).getJobSchedulers()).map((j) => j.key).sort()).toEqual([
        JobName.ScheduleSyncs,
        JobName.StatsCron,
        JobName.Watchdog,
      ]);
      await jobs.enqueue({ name: JobName.SyncUser, data: { userId: 'u1', trigger: 'manual' } });
      await jobs.enqueue({ name: JobName.StatsCron, data: {} });
      const deadline = Date.now() + 5000;
      while (
        !samples.some((s) => s.metric === 'queue_oldest_waiting_ms' && s.labels?.queue === QueueName.Maintenance)
      ) {
        if (Date.now() > deadline) throw new PermanentError('test_timeout', 'stats job did not run');
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(samples).toContainEqual({ metric: 'queue_waiting', value: 1, labels: { queue: QueueName.Sync } });
      expect(
        samples.find((s) => s.metric === 'queue_oldest_waiting_ms' && s.labels?.queue === QueueName.Sync)?.value,
      ).toBeGreaterThanOrEqual(0);
    } finally {
      await app.close();
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
