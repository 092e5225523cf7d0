import { randomBytes } from 'node:crypto';
import { connectRedis, createLogger, type RedisConnection } from '@tributary/common';
import { JobName, JobService, JobStatus, QueueName, SyncPriority, jobIdFor } from '@tributary/queue';
import { SchedulingRepository } from '../../apps/worker/src/scheduling/scheduling.repository';
import {
  ActivityNotVisibleYetError,
  WebhookFollowUp,
} from '../../apps/worker/src/scheduling/webhook-follow-up.service';
import { newActivityRecord, newConnection, newUser } from './support/factories';
import { createTestContext, type TestContext } from './support/test-db';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe(WebhookFollowUp.name, () => {
  let ctx: TestContext;
  let redis: RedisConnection;
  let jobs: JobService;
  let sut: WebhookFollowUp;

  beforeAll(async () => {
    ctx = createTestContext();
    redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
  });

  afterAll(async () => {
    await redis.close();
    await ctx.close();
  });

  beforeEach(() => {
    jobs = new JobService(redis, `test-${randomBytes(6).toString('hex')}`);
    sut = new WebhookFollowUp({
      connections: ctx.repos.connections,
      scheduling: new SchedulingRepository(ctx.db),
      jobs,
      logger: createLogger({ level: 'silent' }),
      maxAttempts: 6,
    });
  });

  afterEach(async () => {
    for (const name of Object.values(QueueName)) await jobs.queue(name).obliterate({ force: true });
    await jobs.close();
  });

  async function announced() {
    const user = await newUser(ctx.db);
    const connection = await newConnection(ctx.db, user.id, { service: 'strava' });
    const remoteId = String(Date.now()) + String(Math.floor(Math.random() * 1000));
    return { user, connection, data: { userId: user.id, connectionId: connection.id, eventId: remoteId } };
  }

  async function syncJob(userId: string) {
    return jobs.queue(QueueName.Sync).getJob(jobIdFor({ name: JobName.SyncUser, data: { userId, trigger: 'manual' } }));
  }

  it('should ask for another sync and retry while the announced activity has not been listed', async () => {
    const { user, connection, data } = await announced();

    await expect(sut.handle(data, { jobId: 'j', attempt: 1 })).rejects.toThrow(ActivityNotVisibleYetError);

    const job = await syncJob(user.id);
    expect(job?.data).toEqual({ userId: user.id, trigger: 'webhook' });
    expect(job?.priority).toBe(SyncPriority.Webhook);
    expect((await ctx.repos.connections.getForUser(user.id, connection.id)).trigger_partial_sync).toBe(true);
    // The error is retryable, so BullMQ schedules the next check with the job's backoff.
    await expect(sut.handle(data, { jobId: 'j', attempt: 2 })).rejects.toMatchObject({ retryable: true });
  });

  it('should succeed once a sync has listed the activity at that connection', async () => {
    const { user, connection, data } = await announced();
    await expect(sut.handle(data, { jobId: 'j', attempt: 1 })).rejects.toThrow(ActivityNotVisibleYetError);
    await jobs.queue(QueueName.Sync).obliterate({ force: true });

    const record = await newActivityRecord(ctx.db, user.id);
    await ctx.repos.activities.setPresence(user.id, record.id, connection.id, {
      state: 'present',
      remoteId: data.eventId,
    });

    await expect(sut.handle(data, { jobId: 'j', attempt: 2 })).resolves.toBe(JobStatus.Success);
    expect(await syncJob(user.id)).toBeUndefined();
  });

  it('should give up after the last attempt without another sync', async () => {
    const { user, data } = await announced();
    await expect(sut.handle(data, { jobId: 'j', attempt: 6 })).resolves.toBe(JobStatus.Failed);
    expect(await syncJob(user.id)).toBeUndefined();
  });

  it('should skip a connection that was removed or needs re-authorization', async () => {
    const { user, connection, data } = await announced();
    await ctx.repos.connections.setStatus(user.id, connection.id, 'needs_reauth');
    await expect(sut.handle(data, { jobId: 'j', attempt: 1 })).resolves.toBe(JobStatus.Skipped);
    await ctx.repos.connections.disconnect(user.id, connection.id);
    await expect(sut.handle(data, { jobId: 'j', attempt: 1 })).resolves.toBe(JobStatus.Skipped);
    expect(await syncJob(user.id)).toBeUndefined();
  });
});
