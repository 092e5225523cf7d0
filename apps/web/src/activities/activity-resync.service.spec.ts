import { NotFoundError } from '@tributary/common';
import { type SyncRunRow, type UserRow } from '@tributary/db';
import { JobName, SyncPriority } from '@tributary/queue';
import { ActivityResyncService, type ActivityResyncDependencies } from './activity-resync.service';

const NOW = new Date('2024-05-01T12:00:00Z');

function setup(opts: { lastSyncAt?: Date | null; found?: boolean; withJobs?: boolean } = {}) {
  const calls: string[] = [];
  const deps: ActivityResyncDependencies = {
    queries: { resetForResync: jest.fn(() => Promise.resolve(opts.found ?? true)) },
    users: {
      findById: jest.fn(() => Promise.resolve({ id: 'u', last_sync_at: opts.lastSyncAt ?? null } as UserRow)),
      scheduleSync: jest.fn((_u: string, o?: { at?: Date; exhaustive?: boolean }) => {
        calls.push(`schedule ${o?.at?.toISOString()} ${o?.exhaustive}`);
        return Promise.resolve();
      }),
    },
    syncRuns: {
      listRecent: jest.fn(() => Promise.resolve([] as SyncRunRow[])),
      enqueue: jest.fn(() => {
        calls.push('run');
        return Promise.resolve({ run: { id: 'r' } as SyncRunRow, created: true });
      }),
    },
    jobs:
      opts.withJobs === false
        ? undefined
        : {
            enqueue: jest.fn((item: unknown, o: unknown) => {
              calls.push(`job ${JSON.stringify(item)} ${JSON.stringify(o)}`);
              return Promise.resolve({ jobId: 'j', added: true });
            }),
          },
    cooldownSeconds: 30,
    now: () => NOW,
  };
  return { sut: new ActivityResyncService(deps), deps, calls };
}

describe(ActivityResyncService.name, () => {
  it('should reset the activity and queue an exhaustive manual sync', async () => {
    const { sut, calls } = setup({ lastSyncAt: new Date(NOW.getTime() - 60_000) });
    expect(await sut.resync('u', 'rec')).toEqual({ queued: true });
    expect(calls).toEqual([
      'run',
      `schedule ${NOW.toISOString()} true`,
      `job ${JSON.stringify({ name: JobName.SyncUser, data: { userId: 'u', trigger: 'manual', exhaustive: true } })} ${JSON.stringify({ priority: SyncPriority.Manual })}`,
    ]);
  });

  it('should schedule the sync for the end of the cooldown instead of refusing', async () => {
    const { sut, calls } = setup({ lastSyncAt: new Date(NOW.getTime() - 10_000) });
    expect(await sut.resync('u', 'rec')).toEqual({ queued: false, startsInSeconds: 20 });
    expect(calls).toEqual([`schedule ${new Date(NOW.getTime() + 20_000).toISOString()} true`]);
  });

  it('should only schedule when the web app has no queues', async () => {
    const { sut, calls } = setup({ withJobs: false });
    expect(await sut.resync('u', 'rec')).toEqual({ queued: false, startsInSeconds: 0 });
    expect(calls).toEqual([`schedule ${NOW.toISOString()} true`]);
  });

  it("should be NotFound for an activity that is not the user's, touching nothing", async () => {
    const { sut, calls } = setup({ found: false });
    await expect(sut.resync('u', 'rec')).rejects.toBeInstanceOf(NotFoundError);
    expect(calls).toEqual([]);
  });
});
