import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { NestFactory } from '@nestjs/core';
import { PermanentError, connectRedis, createLogger, type RedisConnection } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import { type Database, SyncRunRepository, UserRepository } from '@tributary/db';
import { JobName, JobService, QueueName, SyncPriority, jobIdFor } from '@tributary/queue';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { SchedulingRepository } from '../../apps/worker/src/scheduling/scheduling.repository';
import { SyncScheduler } from '../../apps/worker/src/scheduling/sync-scheduler.service';
import { newUser } from './support/factories';
import { createScratchDatabase, type ScratchDb } from './support/test-db';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The scheduler's queries are system-wide, so it gets a database of its own. */
describe(SyncScheduler.name, () => {
  let scratch: ScratchDb;
  let redis: RedisConnection;
  let jobs: JobService;
  let sut: SyncScheduler;

  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrate: true });
    redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
  });

  afterAll(async () => {
    await redis.close();
    await scratch.drop();
  });

  beforeEach(async () => {
    await scratch.db.deleteFrom('users').execute();
    jobs = new JobService(redis, `test-${randomBytes(6).toString('hex')}`);
    sut = new SyncScheduler({
      users: new UserRepository(scratch.db),
      scheduling: new SchedulingRepository(scratch.db),
      jobs,
      logger: createLogger({ level: 'silent' }),
    });
  });

  afterEach(async () => {
    for (const name of Object.values(QueueName)) await jobs.queue(name).obliterate({ force: true });
    await jobs.close();
  });

  /** New users start flagged for an exhaustive first sync; these are users past that. */
  function synced(overrides: Parameters<typeof newUser>[1]) {
    return newUser(scratch.db, { next_sync_exhaustive: false, ...overrides });
  }

  async function syncJob(userId: string) {
    return jobs.queue(QueueName.Sync).getJob(jobIdFor({ name: JobName.SyncUser, data: { userId, trigger: 'manual' } }));
  }

  async function queuedUserIds(): Promise<string[]> {
    const all = await jobs.queue(QueueName.Sync).getJobs(['waiting', 'prioritized', 'delayed']);
    return all.map((j) => (j.data as { userId: string }).userId).sort();
  }

  it('should queue only due users, each once however often it runs', async () => {
    const now = new Date();
    const recent = new Date(now.getTime() - 30 * MINUTE);
    const due = await synced({ next_sync_at: new Date(now.getTime() - MINUTE), last_sync_at: recent });
    const dueNow = await synced({ next_sync_at: now, last_sync_at: recent });
    await synced({ next_sync_at: new Date(now.getTime() + MINUTE), last_sync_at: recent });
    await synced({ next_sync_at: null, last_sync_at: recent });
    // Being synced right now (leased): not queued again.
    await synced({
      next_sync_at: new Date(now.getTime() - MINUTE),
      lease_owner: 'worker-1',
      lease_expires_at: new Date(now.getTime() + 5 * MINUTE),
    });

    const first = await sut.run(now);
    const second = await sut.run(now);

    expect(first).toMatchObject({ due: 2, queued: 2, exhaustive: 0 });
    expect(second).toMatchObject({ due: 2, queued: 0 });
    expect(await queuedUserIds()).toEqual([due.id, dueNow.id].sort());
    const job = await syncJob(due.id);
    expect(job?.data).toEqual({ userId: due.id, trigger: 'scheduled', exhaustive: false });
    expect(job?.priority).toBe(SyncPriority.Scheduled);
  });

  it('should make the sync exhaustive when flagged or after more than 14 days without one', async () => {
    const now = new Date();
    const past = new Date(now.getTime() - MINUTE);
    const flagged = await synced({
      next_sync_at: past,
      next_sync_exhaustive: true,
      last_sync_at: new Date(now.getTime() - MINUTE),
    });
    const longGap = await synced({ next_sync_at: past, last_sync_at: new Date(now.getTime() - 15 * DAY) });
    const never = await synced({ next_sync_at: past, last_sync_at: null });
    const partial = await synced({ next_sync_at: past, last_sync_at: new Date(now.getTime() - 13 * DAY) });

    const summary = await sut.run(now);

    expect(summary).toMatchObject({ due: 4, queued: 4, exhaustive: 3 });
    for (const user of [flagged, longGap, never]) {
      expect((await syncJob(user.id))?.data).toMatchObject({ exhaustive: true });
    }
    expect((await syncJob(partial.id))?.data).toMatchObject({ exhaustive: false });
  });

  it('should give each automatically synced user a daily low-priority exhaustive pass in their slot of the day', async () => {
    const later = new Date(Date.now() + 30 * MINUTE);
    const user = await synced({ next_sync_at: later, last_sync_at: new Date() });
    const manualOnly = await synced({ next_sync_at: later, settings: { autoSync: false } });
    const slotOf = async (id: string): Promise<number> => {
      const { rows } = await sql<{ slot: string }>`
        select mod(hashtext(${id}::text)::bigint + 2147483648, 1440) as slot`.execute(scratch.db);
      return Number(rows[0]?.slot);
    };
    const slot = await slotOf(user.id);
    const inSlot = new Date(Date.UTC(2026, 0, 1) + slot * MINUTE);
    const otherSlot = new Date(inSlot.getTime() + MINUTE);

    expect((await sut.run(otherSlot)).dailyPass).toBe(0);
    const summary = await sut.run(inSlot);

    expect(summary).toMatchObject({ due: 0, dailyPass: 1 });
    const job = await syncJob(user.id);
    expect(job?.data).toEqual({ userId: user.id, trigger: 'scheduled', exhaustive: true });
    expect(job?.priority).toBe(SyncPriority.Background);
    // Automatic sync off: no daily pass even in its own slot.
    const manualSlot = new Date(Date.UTC(2026, 0, 1) + (await slotOf(manualOnly.id)) * MINUTE);
    await sut.run(manualSlot);
    expect(await syncJob(manualOnly.id)).toBeUndefined();
  });

  it('should let "Sync now" overtake a queued scheduled sync and upgrade it to exhaustive', async () => {
    const user = await synced({ next_sync_at: new Date(Date.now() - MINUTE), last_sync_at: new Date() });
    await sut.run(new Date());

    const result = await jobs.enqueue(
      { name: JobName.SyncUser, data: { userId: user.id, trigger: 'manual', exhaustive: true } },
      { priority: SyncPriority.Manual },
    );

    expect(result.added).toBe(false);
    const job = await syncJob(user.id);
    expect(job?.priority).toBe(SyncPriority.Manual);
    expect(job?.data).toMatchObject({ userId: user.id, exhaustive: true });
    expect(await jobs.queue(QueueName.Sync).count()).toBe(1);
  });
});

describe('scheduler and watchdog roles of the worker', () => {
  let scratch: ScratchDb;
  let redis: RedisConnection;
  let jobs: JobService;
  let prefix: string;

  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrate: true });
    redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
    prefix = `test-${randomBytes(6).toString('hex')}`;
    jobs = new JobService(redis, prefix);
  });

  afterAll(async () => {
    for (const name of Object.values(QueueName)) await jobs.queue(name).obliterate({ force: true });
    await jobs.close();
    await redis.close();
    await scratch.drop();
  });

  async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new PermanentError('test_timeout', `${what} did not happen`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('should run the scheduler and watchdog jobs through their processors', async () => {
    const database: Database = {
      db: scratch.db,
      kind: 'server',
      ping: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const users = new UserRepository(scratch.db);
    const syncRuns = new SyncRunRepository(scratch.db);
    const due = await newUser(scratch.db, { next_sync_at: new Date(Date.now() - MINUTE) });
    const stuck = await newUser(scratch.db, { next_sync_at: null });
    await users.acquireLease(stuck.id, 'worker-dead', 60 * MINUTE);
    const { run } = await syncRuns.enqueue(stuck.id, { trigger: 'schedule' });
    await syncRuns.start(stuck.id, run.id, 'worker-dead');
    await scratch.db
      .updateTable('sync_runs')
      .set({ heartbeat_at: new Date(Date.now() - 11 * MINUTE) })
      .where('id', '=', run.id)
      .execute();

    const app = await NestFactory.createApplicationContext(
      WorkerModule.forRoot({
        config: loadConfig({ WORKER_ROLES: 'scheduler,watchdog', TRIBUTARY_QUEUE_PREFIX: prefix }),
        logger: createLogger({ level: 'silent' }),
        connection: redis,
        jobs,
        stats: { record: () => Promise.resolve() },
        database,
      }),
      { logger: false, abortOnError: false },
    );
    try {
      // The job schedulers fire on their minute boundary; queue one run of each now instead of waiting.
      await jobs.enqueue({ name: JobName.ScheduleSyncs, data: {} });
      await jobs.enqueue({ name: JobName.Watchdog, data: {} });
      const queued = (userId: string) =>
        jobs.queue(QueueName.Sync).getJob(jobIdFor({ name: JobName.SyncUser, data: { userId, trigger: 'manual' } }));
      await waitFor('scheduling the due user', async () => (await queued(due.id)) !== undefined);
      await waitFor('recovering the stuck run', async () => (await queued(stuck.id)) !== undefined);
      expect((await syncRuns.findById(stuck.id, run.id))?.status).toBe('failed');
    } finally {
      await app.close();
    }
  });
});
