import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { connectRedis, createLogger, type RedisConnection } from '@tributary/common';
import { type ConnectorRegistry } from '@tributary/connectors';
import { type Repositories, StatsRepository, UserRepository, createRepositories } from '@tributary/db';
import { JobName, JobService, QueueName, jobIdFor } from '@tributary/queue';
import { type SandboxHandle } from '../../apps/sandbox/src';
import { SchedulingRepository } from '../../apps/worker/src/scheduling/scheduling.repository';
import { SyncScheduler } from '../../apps/worker/src/scheduling/sync-scheduler.service';
import { StatsCronService, StatsMetric } from '../../apps/worker/src/stats/stats-cron.service';
import { StatsSourcesRepository } from '../../apps/worker/src/stats/stats-sources.repository';
import { SyncFailuresRepository } from '../../apps/worker/src/sync/sync-failures.repository';
import { SyncUserService } from '../../apps/worker/src/sync/sync-user.service';
import {
  type SandboxAccounts,
  type SandboxControl,
  newSandboxAccounts,
  sandboxHoldings,
  startSandboxWorld,
} from './support/sandbox-users';
import { createScratchDatabase, testKeyring, type ScratchDb } from './support/test-db';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const logger = createLogger({ level: 'silent' });
/** The simulators keep whole seconds. */
const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;

type SandboxUser = SandboxAccounts;

/**
 * User settings and per-connection settings, honoured by a real sync against the sandbox (the planner's own rules are
 * unit-tested in @tributary/sync; these prove the settings reach it from the database). The scheduler's queries are
 * system-wide and the write counts use triggers, so this spec owns a database.
 */
describe('user settings honoured by the sync', () => {
  // Each test runs several real syncs against the simulators.
  jest.setTimeout(30_000);
  let sb: SandboxHandle;
  let scratch: ScratchDb;
  let repos: Repositories;
  let connectors: ConnectorRegistry;
  let control: SandboxControl;
  let clockOffsetMs: number;

  function service(): SyncUserService {
    return new SyncUserService({
      repos,
      failures: new SyncFailuresRepository(scratch.db),
      connectors,
      logger,
      now: () => Date.now() + clockOffsetMs,
    });
  }

  function sync(u: SandboxUser, trigger: 'manual' | 'scheduled' = 'manual') {
    return service().run({ userId: u.userId, trigger, workerId: 'test' });
  }

  function newSandboxUser(): Promise<SandboxUser> {
    return newSandboxAccounts({ control, registry: connectors }, scratch.db, repos, { timezone: 'America/Denver' });
  }

  function spec(startMs: number, sport = 'Run', durationSeconds = 900) {
    return { start: new Date(startMs).toISOString(), durationSeconds, sport, intervalSeconds: 15 };
  }

  async function holdings(u: SandboxUser): Promise<{ strava: number[]; garmin: number[]; dropbox: number }> {
    const held = await sandboxHoldings(control, u);
    return { ...held, dropbox: held.dropbox.length };
  }

  /** Presence state and reason of the user's activity starting at `startMs`, per connection. */
  async function presenceAt(u: SandboxUser, startMs: number): Promise<Record<string, string>> {
    const rows = await scratch.db
      .selectFrom('activity_presence as p')
      .innerJoin('activity_records as r', 'r.id', 'p.record_id')
      .select(['p.connection_id', 'p.state', 'p.reason_code'])
      .where('p.user_id', '=', u.userId)
      .where('r.start_at', '=', new Date(startMs))
      .execute();
    const name = Object.fromEntries(Object.entries(u.connections).map(([k, v]) => [v, k]));
    return Object.fromEntries(rows.map((r) => [name[r.connection_id] ?? '?', `${r.state}:${r.reason_code ?? ''}`]));
  }

  beforeAll(async () => {
    ({
      sb,
      control,
      registry: connectors,
    } = await startSandboxWorld({
      stravaUploadPollScheduleMs: [10, 20, 40, 80],
      garminUploadPollScheduleMs: [10, 20, 40],
    }));
    scratch = await createScratchDatabase({ migrate: true });
    repos = createRepositories(scratch.db, testKeyring());
  });

  beforeEach(() => {
    clockOffsetMs = 0;
  });

  afterAll(async () => {
    await sb?.close();
    await scratch?.drop();
  });

  it('should copy a private activity only when a connection holding it allows syncing private activities', async () => {
    const u = await newSandboxUser();
    const start = seconds(Date.now() - 6 * DAY);
    await control('POST', '/garmin/activities', { username: u.garminUser, spec: spec(start), privacy: 'private' });
    await repos.users.updateSettings(u.userId, { timezoneFallback: 'Europe/Berlin' });

    const held = await sync(u);
    expect(held.counts).toMatchObject({ skipped_private: 2 });
    expect(held.counts.uploaded ?? 0).toBe(0);
    expect(await holdings(u)).toMatchObject({ strava: [], dropbox: 0 });
    expect(await presenceAt(u, start)).toMatchObject({ strava: 'excluded:private', dropbox: 'excluded:private' });

    await repos.connections.updateConfig(u.userId, u.connections.garmin, { syncPrivate: true });
    const allowed = await sync(u);
    expect(allowed.counts).toMatchObject({ uploaded: 2 });
    expect(await holdings(u)).toMatchObject({ strava: [start], dropbox: 1 });
  });

  it('should honour flow exceptions: nothing from the blocked source reaches the blocked destination', async () => {
    const u = await newSandboxUser();
    const fromStrava = seconds(Date.now() - 5 * DAY);
    // Copies of one activity can be listed hours apart (time zones), so distinct activities are not whole hours apart.
    const fromGarmin = seconds(Date.now() - 4 * DAY + 37 * MINUTE);
    await control('POST', '/strava/activities', { athlete: u.athleteId, spec: spec(fromStrava) });
    await control('POST', '/garmin/activities', { username: u.garminUser, spec: spec(fromGarmin), privacy: 'public' });
    // "Do not send Strava activities to Garmin" and "Dropbox receives nothing from Garmin".
    await repos.exclusions.addFlowException(u.userId, u.connections.strava, u.connections.garmin);
    await repos.exclusions.addFlowException(u.userId, u.connections.garmin, u.connections.dropbox);

    const result = await sync(u);

    expect(result.counts).toMatchObject({ uploaded: 2, skipped_flow: 2 });
    const held = await holdings(u);
    expect(held.garmin).toEqual([fromGarmin]);
    expect(held.strava).toEqual([fromStrava, fromGarmin]);
    expect(held.dropbox).toBe(1);
    expect(await presenceAt(u, fromStrava)).toMatchObject({ garmin: 'excluded:flow', dropbox: 'present:uploaded' });
    expect(await presenceAt(u, fromGarmin)).toMatchObject({ dropbox: 'excluded:flow', strava: 'present:uploaded' });
  });

  it('should hold back activities that ended within the upload delay and send them once it has passed', async () => {
    const u = await newSandboxUser();
    const old = seconds(Date.now() - 3 * DAY);
    const recent = seconds(Date.now() - 2 * HOUR);
    await control('POST', '/strava/activities', { athlete: u.athleteId, spec: spec(old) });
    await control('POST', '/strava/activities', { athlete: u.athleteId, spec: spec(recent) });
    await repos.users.updateSettings(u.userId, { uploadDelaySeconds: 6 * 3600 });

    const first = await sync(u);
    expect(first.counts).toMatchObject({ uploaded: 2, deferred: 2 });
    expect((await holdings(u)).garmin).toEqual([old]);
    expect(await presenceAt(u, recent)).toMatchObject({
      garmin: 'pending:upload_delay',
      dropbox: 'pending:upload_delay',
    });
    // It wakes up when the delay has run out rather than an hour later.
    expect(first.nextWakeAt).toBeGreaterThan(Date.now() + 3 * HOUR);
    expect(first.nextWakeAt).toBeLessThanOrEqual(recent + 15 * MINUTE + 6 * HOUR + MINUTE);
    const user = await repos.users.getById(u.userId);
    expect(user.next_sync_at?.getTime()).toBeLessThanOrEqual(first.nextWakeAt!);

    clockOffsetMs = 5 * HOUR;
    const after = await sync(u, 'scheduled');
    expect(after.counts).toMatchObject({ uploaded: 2 });
    expect((await holdings(u)).garmin).toEqual([old, recent]);
  });

  it('should never sync activities that started before the skip-before date', async () => {
    const u = await newSandboxUser();
    const before = seconds(Date.now() - 20 * DAY);
    const after = seconds(Date.now() - 2 * DAY);
    await control('POST', '/strava/activities', { athlete: u.athleteId, spec: spec(before) });
    await control('POST', '/strava/activities', { athlete: u.athleteId, spec: spec(after) });
    await repos.users.updateSettings(u.userId, { skipBefore: new Date(Date.now() - 10 * DAY).toISOString() });

    const result = await sync(u);

    expect(result.counts.uploaded).toBe(2);
    expect((await holdings(u)).garmin).toEqual([after]);
    expect((await holdings(u)).dropbox).toBe(1);
    const skipped = Object.values(await presenceAt(u, before));
    expect(skipped.filter((s) => s.startsWith('present'))).toEqual(['present:source']);
    expect(skipped.filter((s) => !s.startsWith('present'))).toHaveLength(2);
  });

  it('should schedule the next sync only for users with automatic sync, so the scheduler skips manual users', async () => {
    const auto = await newSandboxUser();
    const manual = await newSandboxUser();
    await repos.users.updateSettings(manual.userId, { autoSync: false });
    for (const u of [auto, manual]) {
      await control('POST', '/strava/activities', { athlete: u.athleteId, spec: spec(seconds(Date.now() - DAY)) });
      expect((await sync(u)).status).toBe('succeeded');
    }
    expect((await repos.users.getById(auto.userId)).next_sync_at).not.toBeNull();
    expect((await repos.users.getById(manual.userId)).next_sync_at).toBeNull();

    const redis: RedisConnection = await connectRedis({ url: REDIS_URL, startPrivate: false });
    const jobs = new JobService(redis, `test-${randomBytes(6).toString('hex')}`);
    try {
      const scheduler = new SyncScheduler({
        users: new UserRepository(scratch.db),
        scheduling: new SchedulingRepository(scratch.db),
        jobs,
        logger,
      });
      // Two intervals later: the automatic user is due, the manual one never is.
      await scheduler.run(new Date(Date.now() + 2 * HOUR));
      const queued = async (userId: string) =>
        jobs.queue(QueueName.Sync).getJob(jobIdFor({ name: JobName.SyncUser, data: { userId, trigger: 'manual' } }));
      expect((await queued(auto.userId))?.data).toMatchObject({ userId: auto.userId, trigger: 'scheduled' });
      expect(await queued(manual.userId)).toBeUndefined();
    } finally {
      for (const name of Object.values(QueueName)) await jobs.queue(name).obliterate({ force: true });
      await jobs.close();
      await redis.close();
    }
  });

  it('should show a real sync and its errors in the stats', async () => {
    const redis: RedisConnection = await connectRedis({ url: REDIS_URL, startPrivate: false });
    const jobs = new JobService(redis, `test-${randomBytes(6).toString('hex')}`);
    const stats = new StatsRepository(scratch.db);
    const cron = new StatsCronService({
      sources: new StatsSourcesRepository(scratch.db),
      stats,
      jobs,
      logger,
      options: { retentionDays: 30, topErrorGroups: 10 },
    });
    // Other tests of this file synced users too: the figures are compared before and after this user's sync.
    const figures = async (): Promise<Map<string, number>> => {
      await cron.run(new Date());
      const snapshot = await stats.latestSnapshot({ currentOnly: true });
      const key = (metric: string, labels: Record<string, string>) =>
        `${metric}${JSON.stringify(Object.entries(labels).sort())}`;
      return new Map(snapshot.samples.map((s) => [key(s.metric, s.labels), s.value]));
    };
    const delta = (before: Map<string, number>, after: Map<string, number>, metric: string, labels = {}) => {
      const key = `${metric}${JSON.stringify(Object.entries(labels).sort())}`;
      return (after.get(key) ?? 0) - (before.get(key) ?? 0);
    };
    try {
      const u = await newSandboxUser();
      const t = seconds(Date.now() - 3 * DAY);
      await control('POST', '/strava/activities', { athlete: u.athleteId, spec: spec(t) });
      await control('POST', '/strava/activities', { athlete: u.athleteId, spec: spec(t + 7 * HOUR + 11 * MINUTE) });
      const garminStart = t + 30 * HOUR + 23 * MINUTE;
      await control('POST', '/garmin/activities', {
        username: u.garminUser,
        spec: spec(garminStart),
        privacy: 'public',
      });
      const before = await figures();
      expect((await sync(u)).counts).toMatchObject({ uploaded: 6, merged: 3 });
      const after = await figures();

      const { distance } = await scratch.db
        .selectFrom('activity_records')
        .select((eb) => eb.fn.sum<number>('distance').as('distance'))
        .where('user_id', '=', u.userId)
        .executeTakeFirstOrThrow();
      expect(Number(distance)).toBeGreaterThan(0);
      for (const window of ['1h', '24h', 'total']) {
        expect(delta(before, after, StatsMetric.ActivitiesSynced, { window })).toBe(3);
        expect(delta(before, after, StatsMetric.DistanceSynced, { window })).toBeCloseTo(Number(distance), 3);
        expect(delta(before, after, StatsMetric.ActivitiesSynced, { window, service: 'garmin_connect' })).toBe(2);
        expect(delta(before, after, StatsMetric.ActivitiesSynced, { window, service: 'strava' })).toBe(1);
        expect(delta(before, after, StatsMetric.ActivitiesSynced, { window, service: 'dropbox' })).toBe(3);
      }
      expect(delta(before, after, StatsMetric.SyncRunsFinished, { status: 'succeeded' })).toBe(1);
      expect(after.get(`${StatsMetric.SyncDurationMs}${JSON.stringify([['quantile', '0.5']])}`)).toBeGreaterThan(0);

      await control('POST', '/strava/revoke', { athlete: u.athleteId });
      expect((await sync(u)).status).toBe('partial');
      const blocked = await figures();
      expect(delta(after, blocked, StatsMetric.UsersWithBlockingErrors, { service: 'strava' })).toBe(1);
      expect(delta(after, blocked, StatsMetric.ErrorGroupErrors, { service: 'strava', code: 'auth' })).toBe(1);
      expect(delta(after, blocked, StatsMetric.ActivitiesSynced, { window: 'total' })).toBe(0);
    } finally {
      for (const name of Object.values(QueueName)) await jobs.queue(name).obliterate({ force: true });
      await jobs.close();
      await redis.close();
    }
  });

  describe('rows written by a sync that changes nothing', () => {
    beforeAll(async () => {
      await sql`
        CREATE TABLE write_log (tbl text NOT NULL, user_id uuid NOT NULL);
        CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN INSERT INTO write_log VALUES (TG_TABLE_NAME, NEW.user_id); RETURN NULL; END $$;
        CREATE TRIGGER activity_records_writes AFTER INSERT OR UPDATE ON activity_records
          FOR EACH ROW EXECUTE FUNCTION log_write();
        CREATE TRIGGER activity_presence_writes AFTER INSERT OR UPDATE ON activity_presence
          FOR EACH ROW EXECUTE FUNCTION log_write();
      `.execute(scratch.db);
    });

    async function writes(userId: string): Promise<Record<string, number>> {
      const { rows } = await sql<{ tbl: string; n: string }>`
        SELECT tbl, count(*) AS n FROM write_log WHERE user_id = ${userId} GROUP BY tbl`.execute(scratch.db);
      return Object.fromEntries(rows.map((r) => [r.tbl, Number(r.n)]));
    }

    it('should not rewrite activity records or presence rows whose content did not change', async () => {
      const u = await newSandboxUser();
      // Within a partial sync's listing window (the last week), so every sync lists them all.
      const day = seconds(Date.now() - 5 * DAY);
      for (let i = 0; i < 4; i++) {
        await control('POST', '/strava/activities', {
          athlete: u.athleteId,
          spec: spec(day + i * (5 * HOUR + 13 * MINUTE)),
        });
      }
      await control('POST', '/garmin/activities', {
        username: u.garminUser,
        spec: spec(day + 2 * DAY + 29 * MINUTE),
        privacy: 'public',
      });
      expect((await sync(u)).counts).toMatchObject({ uploaded: 10, merged: 5 });
      const firstSync = await writes(u.userId);

      await sql`DELETE FROM write_log WHERE user_id = ${u.userId}`.execute(scratch.db);
      // The next syncs still learn things: the copies' external ids, that the uploads are now listed there, and
      // (once Dropbox's cursor has moved past them) that its files are known from the ledger rather than listed.
      await sync(u);
      await sync(u);
      await sql`DELETE FROM write_log WHERE user_id = ${u.userId}`.execute(scratch.db);
      const quiet = await sync(u);
      expect(quiet.counts).toMatchObject({ merged: 5, present: 15 });
      const noOpSync = await writes(u.userId);

      expect(firstSync.activity_records).toBeGreaterThanOrEqual(5);
      expect(noOpSync).toEqual({});

      // An exhaustive sync drops the records it did not see, so it still stamps every one it saw.
      await sql`DELETE FROM write_log WHERE user_id = ${u.userId}`.execute(scratch.db);
      const exhaustive = await service().run({
        userId: u.userId,
        trigger: 'manual',
        workerId: 'test',
        exhaustive: true,
      });
      expect(exhaustive.counts).toMatchObject({ merged: 5, records_dropped: 0 });
      expect((await writes(u.userId)).activity_records).toBe(5);
      expect(await repos.activities.listForUser(u.userId)).toHaveLength(5);
      // Content that does change is still written.
      await sql`DELETE FROM write_log WHERE user_id = ${u.userId}`.execute(scratch.db);
      await control('POST', '/strava/activities', { athlete: u.athleteId, spec: spec(day + 3 * DAY + 41 * MINUTE) });
      await sync(u);
      expect((await writes(u.userId)).activity_records).toBe(1);
    });
  });
});
