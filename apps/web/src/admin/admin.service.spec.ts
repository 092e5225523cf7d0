import { NotFoundError } from '@tributary/common';
import { type SyncRunRow, type UserRow } from '@tributary/db';
import { type AdminQueuesService } from './admin-queues.service';
import { ADMIN_UNLOCKED_CODE, AdminAction, AdminService, type AdminServiceDependencies } from './admin.service';

const USER_ID = '5f0c1f4e-8d2a-4c55-9a59-1f2d3c4b5a69';
const ADMIN_ID = '0b7a3f3e-2c1d-4e5f-8a9b-0c1d2e3f4a5b';

function user(overrides: Partial<UserRow> = {}): UserRow {
  return {
    id: USER_ID,
    created_at: new Date('2026-01-01T00:00:00Z'),
    role: 'user',
    email: 'someone@example.test',
    password_hash: null,
    settings: {},
    lease_owner: null,
    lease_expires_at: null,
    next_sync_at: null,
    last_sync_at: null,
    next_sync_exhaustive: false,
    ...overrides,
  };
}

function run(overrides: Partial<SyncRunRow> = {}): SyncRunRow {
  return {
    id: 'e3c5a1b2-0000-4000-8000-000000000001',
    user_id: USER_ID,
    status: 'running',
    exhaustive: false,
    trigger: 'schedule',
    progress: 0.4,
    phase: 'listing strava',
    counts: {},
    errors: [{ code: 'upload', message: 'one failed' }],
    worker_id: 'host-1:sync-user-x',
    queued_at: new Date(),
    started_at: new Date(),
    heartbeat_at: new Date(),
    finished_at: null,
    ...overrides,
  };
}

function setup(found: UserRow | undefined, active: SyncRunRow | undefined) {
  const users = {
    findById: jest.fn().mockResolvedValue(found),
    releaseLease: jest.fn().mockResolvedValue(true),
    scheduleSync: jest.fn().mockResolvedValue(undefined),
  };
  const syncRuns = {
    findActive: jest.fn().mockResolvedValue(active),
    finish: jest.fn().mockResolvedValue(active),
    enqueue: jest.fn().mockResolvedValue({ run: run({ status: 'queued' }), created: true }),
  };
  const audit = { record: jest.fn().mockResolvedValue(undefined), list: jest.fn().mockResolvedValue([]) };
  const jobs = { enqueue: jest.fn().mockResolvedValue({ jobId: `sync-user-${USER_ID}`, added: true }) };
  const deps = {
    users,
    syncRuns,
    audit,
    jobs,
    connections: {},
    syncErrors: {},
    diagnostics: {},
    queues: { available: true } as unknown as AdminQueuesService,
  } as unknown as AdminServiceDependencies;
  return { sut: new AdminService(deps), users, syncRuns, audit, jobs };
}

describe(AdminService.name, () => {
  describe('unlock', () => {
    it('should fail the running run keeping its errors, release the lease from the holder it saw, and audit', async () => {
      const t = setup(user({ lease_owner: 'host-1:sync-user-x', lease_expires_at: new Date() }), run());
      const result = await t.sut.unlock(ADMIN_ID, USER_ID);
      expect(t.syncRuns.finish).toHaveBeenCalledWith(USER_ID, run().id, {
        status: 'failed',
        errors: [
          { code: 'upload', message: 'one failed' },
          { code: ADMIN_UNLOCKED_CODE, message: 'stopped by an administrator' },
        ],
      });
      // Conditional on the owner seen: a worker that took the lease over in between keeps it.
      expect(t.users.releaseLease).toHaveBeenCalledWith(USER_ID, 'host-1:sync-user-x');
      expect(result).toEqual({ leaseReleased: true, previousOwner: 'host-1:sync-user-x', failedRunId: run().id });
      expect(t.audit.record).toHaveBeenCalledWith({
        actorUserId: ADMIN_ID,
        action: AdminAction.Unlock,
        targetUserId: USER_ID,
        details: result,
      });
    });

    it('should leave a queued run alone and treat a run that finished meanwhile as nothing to fail', async () => {
      const queued = setup(user(), run({ status: 'queued' }));
      expect(await queued.sut.unlock(ADMIN_ID, USER_ID)).toEqual({
        leaseReleased: false,
        previousOwner: null,
        failedRunId: null,
      });
      expect(queued.syncRuns.finish).not.toHaveBeenCalled();
      expect(queued.users.releaseLease).not.toHaveBeenCalled();

      const raced = setup(user(), run());
      raced.syncRuns.finish.mockRejectedValue(new NotFoundError('active sync run', run().id));
      expect((await raced.sut.unlock(ADMIN_ID, USER_ID)).failedRunId).toBeNull();
    });

    it('should refuse an unknown user without writing anything', async () => {
      const t = setup(undefined, undefined);
      await expect(t.sut.unlock(ADMIN_ID, USER_ID)).rejects.toThrow(NotFoundError);
      expect(t.audit.record).not.toHaveBeenCalled();
    });
  });

  describe('requeue', () => {
    it('should record the run and next sync before queueing an exhaustive job at the highest priority', async () => {
      const t = setup(user(), undefined);
      const order: string[] = [];
      t.syncRuns.enqueue.mockImplementation(() => {
        order.push('run');
        return Promise.resolve({ run: run({ status: 'queued' }), created: true });
      });
      t.users.scheduleSync.mockImplementation(() => {
        order.push('schedule');
        return Promise.resolve();
      });
      t.jobs.enqueue.mockImplementation(() => {
        order.push('job');
        return Promise.resolve({ jobId: 'j', added: true });
      });
      const result = await t.sut.requeue(ADMIN_ID, USER_ID);
      expect(order).toEqual(['run', 'schedule', 'job']);
      expect(t.syncRuns.enqueue).toHaveBeenCalledWith(USER_ID, { trigger: 'admin', exhaustive: true });
      expect(t.jobs.enqueue).toHaveBeenCalledWith(
        { name: 'sync-user', data: { userId: USER_ID, trigger: 'manual', exhaustive: true } },
        { priority: 1 },
      );
      expect(result).toEqual({ runId: run().id, joinedExisting: false, queued: true });
    });
  });

  describe('searchUsers', () => {
    it('should neither search nor audit a blank query, and refuse an absurdly long one', async () => {
      const t = setup(user(), undefined);
      expect(await t.sut.searchUsers(ADMIN_ID, '   ')).toEqual([]);
      await expect(t.sut.searchUsers(ADMIN_ID, 'x'.repeat(400))).rejects.toThrow('too long');
      expect(t.audit.record).not.toHaveBeenCalled();
    });
  });
});
