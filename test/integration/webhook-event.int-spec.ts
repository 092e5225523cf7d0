import { createLogger } from '@tributary/common';
import { JobName, JobStatus, QueueName, SyncPriority, jobIdFor } from '@tributary/queue';
import { SchedulingRepository } from '../../apps/worker/src/scheduling/scheduling.repository';
import {
  ActivityNotVisibleYetError,
  WebhookFollowUp,
} from '../../apps/worker/src/scheduling/webhook-follow-up.service';
import { newActivityRecord, newConnection, newUser } from './support/factories';
import { useQueueTestContext } from './support/test-queues';

describe(WebhookFollowUp.name, () => {
  const env = useQueueTestContext();
  let sut: WebhookFollowUp;

  beforeEach(() => {
    sut = new WebhookFollowUp({
      connections: env.ctx.repos.connections,
      scheduling: new SchedulingRepository(env.ctx.db),
      jobs: env.jobs,
      logger: createLogger({ level: 'silent' }),
      maxAttempts: 6,
    });
  });

  async function announced() {
    const user = await newUser(env.ctx.db);
    const connection = await newConnection(env.ctx.db, user.id, { service: 'strava' });
    const remoteId = String(Date.now()) + String(Math.floor(Math.random() * 1000));
    return { user, connection, data: { userId: user.id, connectionId: connection.id, eventId: remoteId } };
  }

  async function syncJob(userId: string) {
    return env.jobs
      .queue(QueueName.Sync)
      .getJob(jobIdFor({ name: JobName.SyncUser, data: { userId, trigger: 'manual' } }));
  }

  it('should ask for another sync and retry while the announced activity has not been listed', async () => {
    const { user, connection, data } = await announced();

    await expect(sut.handle(data, { jobId: 'j', attempt: 1 })).rejects.toThrow(ActivityNotVisibleYetError);

    const job = await syncJob(user.id);
    expect(job?.data).toEqual({ userId: user.id, trigger: 'webhook' });
    expect(job?.priority).toBe(SyncPriority.Webhook);
    expect((await env.ctx.repos.connections.getForUser(user.id, connection.id)).trigger_partial_sync).toBe(true);
    // The error is retryable, so BullMQ schedules the next check with the job's backoff.
    await expect(sut.handle(data, { jobId: 'j', attempt: 2 })).rejects.toMatchObject({ retryable: true });
  });

  it('should succeed once a sync has listed the activity at that connection', async () => {
    const { user, connection, data } = await announced();
    await expect(sut.handle(data, { jobId: 'j', attempt: 1 })).rejects.toThrow(ActivityNotVisibleYetError);
    await env.jobs.queue(QueueName.Sync).obliterate({ force: true });

    const record = await newActivityRecord(env.ctx.db, user.id);
    await env.ctx.repos.activities.setPresence(user.id, record.id, connection.id, {
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
    await env.ctx.repos.connections.setStatus(user.id, connection.id, 'needs_reauth');
    await expect(sut.handle(data, { jobId: 'j', attempt: 1 })).resolves.toBe(JobStatus.Skipped);
    await env.ctx.repos.connections.disconnect(user.id, connection.id);
    await expect(sut.handle(data, { jobId: 'j', attempt: 1 })).resolves.toBe(JobStatus.Skipped);
    expect(await syncJob(user.id)).toBeUndefined();
  });
});
