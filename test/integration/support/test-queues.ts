import { randomBytes } from 'node:crypto';
import { connectRedis, type RedisConnection } from '@tributary/common';
import { JobService, QueueName } from '@tributary/queue';
import { createTestContext, type TestContext } from './test-db';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface QueueTestContext {
  readonly ctx: TestContext;
  readonly jobs: JobService;
}

/**
 * Registers the hooks of a spec that needs the shared test database and Redis: a JobService under a fresh queue
 * prefix for each test, emptied after it, so tests running in parallel never see each other's jobs. Read the fields
 * inside hooks and tests only (they are set by the hooks).
 */
export function useQueueTestContext(): QueueTestContext {
  let ctx: TestContext | undefined;
  let redis: RedisConnection | undefined;
  let jobs: JobService | undefined;

  beforeAll(async () => {
    ctx = createTestContext();
    redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
  });

  afterAll(async () => {
    await redis?.close();
    await ctx?.close();
  });

  beforeEach(() => {
    jobs = new JobService(redis!, `test-${randomBytes(6).toString('hex')}`);
  });

  afterEach(async () => {
    if (jobs === undefined) return;
    for (const name of Object.values(QueueName)) await jobs.queue(name).obliterate({ force: true });
    await jobs.close();
  });

  return {
    get ctx() {
      return ctx!;
    },
    get jobs() {
      return jobs!;
    },
  };
}
