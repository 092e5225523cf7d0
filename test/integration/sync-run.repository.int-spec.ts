import { NotFoundError } from '@tributary/common';
import { SyncRunRepository } from '@tributary/db';
import { newUser } from './support/factories';
import { openTestDb, type TestDb } from './support/test-db';

describe(SyncRunRepository.name, () => {
  let t: TestDb;
  let sut: SyncRunRepository;
  beforeAll(() => {
    t = openTestDb({ poolSize: 8 });
    sut = new SyncRunRepository(t.db);
  });
  afterAll(() => t.close());

  it('should run a sync through queued, running and finished with progress and merged counts', async () => {
    const user = await newUser(t.db);
    const { run, created } = await sut.enqueue(user.id, { trigger: 'manual' });
    expect(created).toBe(true);
    expect(run).toMatchObject({ status: 'queued', exhaustive: false, progress: 0, counts: {}, errors: [] });
    const started = await sut.start(user.id, run.id, 'worker-1');
    expect(started).toMatchObject({ status: 'running', worker_id: 'worker-1' });
    expect(await sut.start(user.id, run.id, 'worker-2')).toBeNull();
    await sut.heartbeat(user.id, run.id, { progress: 0.5, phase: 'listing strava', counts: { listed: 3 } });
    await sut.heartbeat(user.id, run.id, { counts: { uploaded: 1 } });
    expect(await sut.findById(user.id, run.id)).toMatchObject({
      progress: 0.5,
      phase: 'listing strava',
      counts: { listed: 3, uploaded: 1 },
    });
    const done = await sut.finish(user.id, run.id, {
      status: 'partial',
      errors: [{ code: 'upload', message: 'dropbox 500', connectionId: 'c' }],
    });
    expect(done).toMatchObject({ status: 'partial', phase: null, counts: { listed: 3, uploaded: 1 } });
    expect(done.finished_at).toBeInstanceOf(Date);
    await expect(sut.finish(user.id, run.id, { status: 'failed' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.heartbeat(user.id, run.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await sut.findActive(user.id)).toBeUndefined();
  });

  it('should keep one active run per user even when many requests race, upgrading to exhaustive', async () => {
    const user = await newUser(t.db);
    const results = await Promise.all(
      [false, false, true, false].map((exhaustive) => sut.enqueue(user.id, { trigger: 'webhook', exhaustive })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
    expect((await sut.findActive(user.id))?.exhaustive).toBe(true);
    const active = await sut.findActive(user.id);
    await sut.start(user.id, active!.id, 'w');
    await sut.finish(user.id, active!.id, { status: 'succeeded' });
    const next = await sut.enqueue(user.id, { trigger: 'schedule' });
    expect(next.created).toBe(true);
    expect((await sut.listRecent(user.id)).map((r) => r.status)).toEqual(['queued', 'succeeded']);
  });

  it('should report running runs whose heartbeat went quiet', async () => {
    const user = await newUser(t.db);
    const { run } = await sut.enqueue(user.id, { trigger: 'schedule' });
    await sut.start(user.id, run.id, 'w');
    await t.db
      .updateTable('sync_runs')
      .set({ heartbeat_at: new Date(Date.now() - 3_600_000) })
      .where('id', '=', run.id)
      .execute();
    const stale = await sut.findStale(new Date(Date.now() - 600_000), 10_000);
    expect(stale.map((r) => r.id)).toContain(run.id);
  });

  it('should not let another user read or change a run', async () => {
    const owner = await newUser(t.db);
    const other = await newUser(t.db);
    const { run } = await sut.enqueue(owner.id, { trigger: 'manual' });
    expect(await sut.findById(other.id, run.id)).toBeUndefined();
    expect(await sut.findActive(other.id)).toBeUndefined();
    expect(await sut.listRecent(other.id)).toEqual([]);
    expect(await sut.start(other.id, run.id, 'evil')).toBeNull();
    await sut.start(owner.id, run.id, 'w');
    await expect(sut.heartbeat(other.id, run.id, { progress: 1 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.finish(other.id, run.id, { status: 'failed' })).rejects.toBeInstanceOf(NotFoundError);
    expect(await sut.findById(owner.id, run.id)).toMatchObject({ status: 'running', worker_id: 'w', progress: 0 });
    const theirs = await sut.enqueue(other.id, { trigger: 'manual' });
    expect(theirs.created).toBe(true);
  });
});
