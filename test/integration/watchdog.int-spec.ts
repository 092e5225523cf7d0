import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { connectRedis, createLogger, type RedisConnection } from '@tributary/common';
import { SyncRunRepository, UserRepository } from '@tributary/db';
import { JobName, JobService, QueueName, jobIdFor } from '@tributary/queue';
import {
  SyncWatchdog,
  WORKER_STOPPED_CODE,
  WORKER_STOPPED_MESSAGE,
} from '../../apps/worker/src/scheduling/sync-watchdog.service';
import { newUser } from './support/factories';
import { createScratchDatabase, type ScratchDb } from './support/test-db';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MINUTE = 60_000;

/** The watchdog's query is system-wide (it would fail other specs' runs), so it gets a database of its own. */
describe(SyncWatchdog.name, () => {
  let scratch: ScratchDb;
  let redis: RedisConnection;
  let jobs: JobService;
  let users: UserRepository;
  let syncRuns: SyncRunRepository;
  let sut: SyncWatchdog;

  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrate: true });
    redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
    users = new UserRepository(scratch.db);
    syncRuns = new SyncRunRepository(scratch.db);
  });

  afterAll(async () => {
    await redis.close();
    await scratch.drop();
  });

  beforeEach(() => {
    jobs = new JobService(redis, `test-${randomBytes(6).toString('hex')}`);
    sut = new SyncWatchdog({ users, syncRuns, jobs, logger: createLogger({ level: 'silent' }) });
  });

  afterEach(async () => {
    for (const name of Object.values(QueueName)) await jobs.queue(name).obliterate({ force: true });
    await jobs.close();
  });

  /** A user whose sync is running on `workerId` (lease and run), last heartbeat `silentForMs` ago, in `phase`. */
  async function runningSync(workerId: string, silentForMs: number, phase: string, exhaustive = false) {
    const user = await newUser(scratch.db, { next_sync_at: null });
    expect(await users.acquireLease(user.id, workerId, 60 * MINUTE)).not.toBeNull();
    const { run } = await syncRuns.enqueue(user.id, { trigger: 'schedule', exhaustive });
    await syncRuns.start(user.id, run.id, workerId);
    await syncRuns.heartbeat(user.id, run.id, { phase, counts: { listed: 3 } });
    await scratch.db
      .updateTable('sync_runs')
      .set({ heartbeat_at: sql<Date>`now() - make_interval(secs => ${silentForMs / 1000})` })
      .where('id', '=', run.id)
      .execute();
    return { user, run };
  }

  async function userRow(id: string) {
    return scratch.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }

  async function queuedJob(userId: string) {
    return jobs.queue(QueueName.Sync).getJob(jobIdFor({ name: JobName.SyncUser, data: { userId, trigger: 'manual' } }));
  }

  it('should fail a silent run with a reason, release its lease and queue the user again', async () => {
    const { user, run } = await runningSync('worker-dead', 11 * MINUTE, 'processing 3/10', true);

    const summary = await sut.run(new Date());

    expect(summary.recovered).toContain(run.id);
    const failed = await syncRuns.findById(user.id, run.id);
    expect(failed).toMatchObject({ status: 'failed', counts: { listed: 3 } });
    expect(failed?.errors).toEqual([{ code: WORKER_STOPPED_CODE, message: WORKER_STOPPED_MESSAGE }]);
    const row = await userRow(user.id);
    expect(row).toMatchObject({ lease_owner: null, lease_expires_at: null, next_sync_exhaustive: true });
    expect(row.next_sync_at).not.toBeNull();
    expect((await queuedJob(user.id))?.data).toEqual({ userId: user.id, trigger: 'scheduled', exhaustive: true });
    // Another worker can take the user at once.
    expect(await users.acquireLease(user.id, 'worker-new', MINUTE)).not.toBeNull();
    // A second pass finds nothing more to do for it.
    expect((await sut.run(new Date())).recovered).not.toContain(run.id);
  });

  it('should give a listing run 45 minutes before declaring it dead', async () => {
    const slow = await runningSync('worker-slow', 20 * MINUTE, 'listing garmin');
    const dead = await runningSync('worker-gone', 50 * MINUTE, 'listing strava');
    const fresh = await runningSync('worker-ok', 2 * MINUTE, 'planning');

    const summary = await sut.run(new Date());

    expect(summary.recovered).toContain(dead.run.id);
    expect(summary.recovered).not.toContain(slow.run.id);
    expect(summary.recovered).not.toContain(fresh.run.id);
    expect((await syncRuns.findById(slow.user.id, slow.run.id))?.status).toBe('running');
    expect((await syncRuns.findById(fresh.user.id, fresh.run.id))?.status).toBe('running');
    expect((await userRow(slow.user.id)).lease_owner).toBe('worker-slow');
    expect(await queuedJob(slow.user.id)).toBeUndefined();
    expect((await userRow(dead.user.id)).lease_owner).toBeNull();
  });

  it('should not release a lease another worker took over, but still fail the dead run', async () => {
    const { user, run } = await runningSync('worker-dead', 11 * MINUTE, 'planning');
    await scratch.db
      .updateTable('users')
      .set({ lease_owner: 'worker-live', lease_expires_at: new Date(Date.now() + 5 * MINUTE) })
      .where('id', '=', user.id)
      .execute();

    await sut.run(new Date());

    expect((await syncRuns.findById(user.id, run.id))?.status).toBe('failed');
    expect((await userRow(user.id)).lease_owner).toBe('worker-live');
  });
});
