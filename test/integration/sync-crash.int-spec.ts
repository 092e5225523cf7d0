import { readFile } from 'node:fs/promises';
import { JobName, SyncPriority } from '@tributary/queue';
import {
  DROPBOX_FOLDER,
  HOUR_MS,
  type PipelineHub,
  type PipelineUser,
  type WorkerProcess,
  activitySpec,
  startPipelineHub,
  waitUntil,
  wholeSeconds,
} from '../support/pipeline-harness.util';
import { createScratchDatabase, type ScratchDb } from './support/test-db';

const USERS = 50;
/** Per user: two recorded on Strava, one on Garmin, one file in Dropbox; each must reach the two other services. */
const ACTIVITIES_PER_USER = 4;
const UPLOADS_EXPECTED = USERS * ACTIVITIES_PER_USER * 2;
/** Short enough that the watchdog acts within the test; everything else (lease, heartbeats, BullMQ stall) follows. */
const STALE_SECONDS = 15;

async function tail(file: string, lines = 40): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * kill -9 of a worker process in the middle of 50 users' syncs, then a fresh worker with the watchdog: afterwards every
 * activity is at every destination exactly once, as the simulators themselves list them. The watchdog's query is
 * system-wide (it would fail other specs' runs), so this spec has a database of its own.
 */
describe('a sync worker killed mid-sync', () => {
  let scratch: ScratchDb;
  let hub: PipelineHub;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrate: true });
    hub = await startPipelineHub({
      databaseUrl: scratch.url,
      env: {
        SYNC_CONCURRENCY: '8',
        SYNC_HEARTBEAT_STALE_SECONDS: String(STALE_SECONDS),
        SYNC_LISTING_STALE_SECONDS: String(STALE_SECONDS),
      },
      sandbox: { strava: { uploadProcessingPolls: 0 }, garmin: { uploadProcessingPolls: 0 } },
    });
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) await w.stop();
    await hub?.close();
    await scratch?.drop();
  });

  it('should leave every activity at every destination exactly once after the watchdog and a fresh worker', async () => {
    const users: PipelineUser[] = [];
    const starts = new Map<string, number[]>();
    const base = wholeSeconds(Date.now() - 30 * 24 * HOUR_MS);
    for (let i = 0; i < USERS; i++) {
      const u = await hub.newUser();
      users.push(u);
      // Distinct per user (minutes apart), so a copy landing at another user's account would be noticed. Never whole
      // hours apart within a user: the merge takes such starts (up to 26 h) for one activity in two time zones.
      const t = (k: number) => base + k * (26 * HOUR_MS + 13 * 60_000) + i * 7 * 60_000;
      const own = [t(0), t(1), t(2), t(3)];
      starts.set(u.userId, own);
      await hub.control.call('POST', '/strava/activities', { athlete: u.athleteId, spec: activitySpec(own[0]!) });
      await hub.control.call('POST', '/strava/activities', {
        athlete: u.athleteId,
        spec: activitySpec(own[1]!, 'Ride'),
      });
      await hub.control.call('POST', '/garmin/activities', {
        username: u.garminUser,
        spec: activitySpec(own[2]!),
        privacy: 'public',
      });
      await hub.control.call('POST', '/dropbox/files', {
        account: u.dropboxAccount,
        path: `${DROPBOX_FOLDER}/run/u${i}.fit`,
        spec: activitySpec(own[3]!),
      });
    }
    for (const u of users) {
      await hub.jobs.enqueue(
        { name: JobName.SyncUser, data: { userId: u.userId, trigger: 'connected' } },
        { priority: SyncPriority.Manual },
      );
    }

    const first = hub.spawnWorker('first', { WORKER_ROLES: 'sync' });
    workers.push(first);
    const { lastSeq } = await hub.control.requests();
    await waitUntil(
      'a fifth of the uploads',
      async () => (await hub.control.uploads(lastSeq)).length >= UPLOADS_EXPECTED / 5,
      { timeoutMs: 120_000, intervalMs: 50 },
    ).catch(async (err: unknown) => {
      throw new TypeError(`${String(err)}\n--- first worker log ---\n${await tail(first.logFile)}`);
    });
    await first.kill9();
    const interrupted = await hub.database.db
      .selectFrom('sync_runs')
      .select(['id', 'user_id'])
      .where('status', '=', 'running')
      .execute();
    const uploadedBeforeKill = (await hub.control.uploads(lastSeq)).length;
    // The kill landed mid-sync: runs were open and not everything was uploaded yet.
    expect(interrupted.length).toBeGreaterThan(0);
    expect(uploadedBeforeKill).toBeLessThan(UPLOADS_EXPECTED);

    const second = hub.spawnWorker('second', { WORKER_ROLES: 'sync,watchdog,scheduler' });
    workers.push(second);
    const everyoneSynced = async (): Promise<boolean> => {
      const open = await hub.database.db
        .selectFrom('sync_runs')
        .select('id')
        .where('status', 'in', ['queued', 'running'])
        .executeTakeFirst();
      if (open !== undefined) return false;
      const done = await hub.database.db
        .selectFrom('sync_runs')
        .select(({ fn }) => fn.count<string>('user_id').distinct().as('n'))
        .where('status', '=', 'succeeded')
        .executeTakeFirstOrThrow();
      return Number(done.n) === USERS;
    };
    // The periodic jobs fire every minute from their BullMQ schedulers; the test ticks them faster.
    await waitUntil(
      'every user synced after the crash',
      async () => {
        await hub.jobs.enqueue({ name: JobName.Watchdog, data: {} });
        await hub.jobs.enqueue({ name: JobName.ScheduleSyncs, data: {} });
        return everyoneSynced();
      },
      { timeoutMs: 240_000, intervalMs: 1000 },
    ).catch(async (err: unknown) => {
      throw new TypeError(`${String(err)}\n--- second worker log ---\n${await tail(second.logFile)}`);
    });

    const wrong: unknown[] = [];
    for (const u of users) {
      const held = await hub.holdings(u);
      const own = starts.get(u.userId)!;
      if (
        JSON.stringify(held.strava) !== JSON.stringify(own) ||
        JSON.stringify(held.garmin) !== JSON.stringify(own) ||
        held.dropbox.length !== ACTIVITIES_PER_USER
      ) {
        const history = await hub.database.db
          .selectFrom('sync_runs')
          .select(['trigger', 'status', 'exhaustive', 'counts', 'errors', 'phase'])
          .where('user_id', '=', u.userId)
          .orderBy('queued_at')
          .execute();
        wrong.push({ user: u.userId, held, own, history });
      }
    }
    expect(wrong).toEqual([]);
    expect((await hub.control.uploads(lastSeq)).length).toBeGreaterThanOrEqual(UPLOADS_EXPECTED);
    // Each run the kill interrupted was closed as failed, by the watchdog or by the next sync of that user.
    const closed = await hub.database.db
      .selectFrom('sync_runs')
      .select(['status', 'errors'])
      .where(
        'id',
        'in',
        interrupted.map((r) => r.id),
      )
      .execute();
    expect(closed).toHaveLength(interrupted.length);
    for (const run of closed) {
      expect(run.status).toBe('failed');
      expect(JSON.stringify(run.errors)).toMatch(/worker_stopped|interrupted/);
    }
  }, 420_000);
});
