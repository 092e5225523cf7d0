import { JOB_QUEUE, JobStatus, type JobOf } from './job-item.types';
import { jobIdFor } from './job-options.constants';
import { OnJob, collectJobHandlers } from './on-job.decorator';
import { JobName, QueueName } from './queue-name.enum';
import { JobRegistryError } from './queue.error';
import { ROLE_JOBS, jobsForRoles } from './worker-roles.constants';

class SyncHandlers {
  readonly seen: string[] = [];

  @OnJob({ name: JobName.SyncUser, queue: QueueName.Sync })
  syncUser(data: JobOf<JobName.SyncUser>): Promise<JobStatus> {
    this.seen.push(data.userId);
    return Promise.resolve(JobStatus.Success);
  }

  helper(): string {
    return 'not a handler';
  }
}

class StatsHandlers {
  @OnJob({ name: JobName.StatsCron, queue: QueueName.Stats })
  stats(): Promise<JobStatus> {
    return Promise.resolve(JobStatus.Skipped);
  }
}

class DuplicateSync {
  @OnJob({ name: JobName.SyncUser, queue: QueueName.Sync })
  again(): Promise<JobStatus> {
    return Promise.resolve(JobStatus.Success);
  }
}

class WrongQueue {
  @OnJob({ name: JobName.StatsCron, queue: QueueName.Sync })
  stats(): Promise<JobStatus> {
    return Promise.resolve(JobStatus.Success);
  }
}

class InheritedSync extends SyncHandlers {}

describe('collectJobHandlers', () => {
  it('should find decorated methods bound to their instance and return only the required jobs', async () => {
    const instance = new SyncHandlers();
    const sut = collectJobHandlers([instance, new StatsHandlers()], [JobName.SyncUser]);
    expect([...sut.keys()]).toEqual([JobName.SyncUser]);
    const handler = sut.get(JobName.SyncUser);
    expect(handler?.source).toBe('SyncHandlers.syncUser');
    await expect(
      handler?.handle({ userId: 'u1', trigger: 'manual' } as never, { jobId: 'j', attempt: 1 }),
    ).resolves.toBe(JobStatus.Success);
    expect(instance.seen).toEqual(['u1']);
  });

  it('should find handlers declared on a parent class', () => {
    const sut = collectJobHandlers([new InheritedSync()], [JobName.SyncUser]);
    expect(sut.get(JobName.SyncUser)?.source).toBe('InheritedSync.syncUser');
  });

  it('should fail when a required job has no handler, naming the job', () => {
    expect(() => collectJobHandlers([new StatsHandlers()], [JobName.SyncUser, JobName.StatsCron])).toThrow(
      new JobRegistryError(
        'No handler for job(s) sync-user. Add an @OnJob({ name, queue }) method to a provider of the worker, or disable' +
          ' the worker role that processes them (WORKER_ROLES).',
      ),
    );
  });

  it('should fail when a job has two handlers, even if its role is disabled', () => {
    expect(() => collectJobHandlers([new SyncHandlers(), new DuplicateSync()], [])).toThrow(
      'Job sync-user has two handlers: SyncHandlers.syncUser and DuplicateSync.again',
    );
  });

  it('should fail when a handler names the wrong queue', () => {
    expect(() => collectJobHandlers([new WrongQueue()], [])).toThrow(JobRegistryError);
  });
});

describe('jobIdFor', () => {
  it('should give the same id for the same user or event and never contain a colon', () => {
    const a = jobIdFor({ name: JobName.SyncUser, data: { userId: 'u1', trigger: 'manual' } });
    const b = jobIdFor({ name: JobName.SyncUser, data: { userId: 'u1', trigger: 'webhook', exhaustive: true } });
    expect(a).toBe('sync-user-u1');
    expect(b).toBe(a);
    expect(jobIdFor({ name: JobName.WebhookEvent, data: { userId: 'u1', connectionId: 'c1', eventId: 'e9' } })).toBe(
      'webhook-event-c1-e9',
    );
    expect(jobIdFor({ name: JobName.StatsCron, data: {} })).not.toContain(':');
  });
});

describe('jobsForRoles', () => {
  it('should list each role’s jobs once', () => {
    expect(jobsForRoles(['sync', 'stats', 'sync'])).toEqual([
      JobName.SyncUser,
      JobName.WebhookEvent,
      JobName.Notify,
      JobName.StatsCron,
    ]);
    expect(jobsForRoles(['scheduler', 'watchdog'])).toEqual([JobName.ScheduleSyncs, JobName.Watchdog]);
  });
});

describe('JOB_QUEUE', () => {
  it('should give every worker role queues of its own, so no worker receives another role’s jobs', () => {
    const owners = new Map<QueueName, string>();
    for (const [role, jobs] of Object.entries(ROLE_JOBS)) {
      for (const job of jobs) {
        const queue = JOB_QUEUE[job];
        expect([role, owners.get(queue) ?? role]).toEqual([role, role]);
        owners.set(queue, role);
      }
    }
    expect(owners.has(QueueName.Maintenance)).toBe(false);
  });
});
