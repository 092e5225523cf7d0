import { randomBytes } from 'node:crypto';
import { connectRedis, createLogger, type RedisConnection } from '@tributary/common';
import { type ConnectionRow, type Repositories, StatsRepository, createRepositories } from '@tributary/db';
import { JobName, JobService, QueueName } from '@tributary/queue';
import { StatsCronService, StatsMetric } from '../../apps/worker/src/stats/stats-cron.service';
import { StatsSourcesRepository } from '../../apps/worker/src/stats/stats-sources.repository';
import { newActivityRecord, newConnection, newUser } from './support/factories';
import { createScratchDatabase, type ScratchDb } from './support/test-db';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The stats are system-wide, so this spec owns a database: nothing another spec writes can move its numbers. */
describe(StatsCronService.name, () => {
  let scratch: ScratchDb;
  let repos: Repositories;
  let stats: StatsRepository;
  let redis: RedisConnection;
  let jobs: JobService;

  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrate: true });
    repos = createRepositories(scratch.db, null);
    stats = new StatsRepository(scratch.db);
    redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
  });

  afterAll(async () => {
    await redis.close();
    await scratch.drop();
  });

  beforeEach(async () => {
    await scratch.db.deleteFrom('users').execute();
    await scratch.db.deleteFrom('stats_samples').execute();
    jobs = new JobService(redis, `test-${randomBytes(6).toString('hex')}`);
  });

  afterEach(async () => {
    for (const name of Object.values(QueueName)) await jobs.queue(name).obliterate({ force: true });
    await jobs.close();
  });

  function cron(topErrorGroups = 10): StatsCronService {
    return new StatsCronService({
      sources: new StatsSourcesRepository(scratch.db),
      stats,
      jobs,
      logger: createLogger({ level: 'silent' }),
      options: { retentionDays: 30, topErrorGroups },
    });
  }

  /** An upload completed through the ledger, as the sync does it, then dated `agoMs` back. */
  async function uploaded(userId: string, connection: ConnectionRow, distance: number | null, agoMs: number) {
    const record = await newActivityRecord(scratch.db, userId);
    await scratch.db.updateTable('activity_records').set({ distance }).where('id', '=', record.id).execute();
    await repos.ledger.reserveUpload(userId, connection.id, record.uid, record.id);
    await repos.ledger.completeUpload(userId, connection.id, record.uid, `remote-${record.uid}`);
    await scratch.db
      .updateTable('uploaded_activities')
      .set({ uploaded_at: new Date(Date.now() - agoMs) })
      .where('connection_id', '=', connection.id)
      .where('uid', '=', record.uid)
      .execute();
    return record;
  }

  /** A finished sync run of `durationMs` that ended `agoMs` ago. */
  async function finishedRun(userId: string, durationMs: number, agoMs: number, status: 'succeeded' | 'failed') {
    const { run } = await repos.syncRuns.enqueue(userId, { trigger: 'schedule' });
    await repos.syncRuns.start(userId, run.id, 'w1');
    await repos.syncRuns.finish(userId, run.id, { status });
    const finishedAt = Date.now() - agoMs;
    await scratch.db
      .updateTable('sync_runs')
      .set({ started_at: new Date(finishedAt - durationMs), finished_at: new Date(finishedAt) })
      .where('id', '=', run.id)
      .execute();
  }

  function value(
    snapshot: Awaited<ReturnType<StatsRepository['latestSnapshot']>>,
    metric: string,
    labels: Record<string, string> = {},
  ): number | undefined {
    const key = (l: Record<string, string>) => JSON.stringify(Object.entries(l).sort());
    return snapshot.samples.find((s) => s.metric === metric && key(s.labels) === key(labels))?.value;
  }

  it('should store activities and distance synced per window and destination, counting each activity once overall', async () => {
    const a = await newUser(scratch.db);
    const b = await newUser(scratch.db);
    const stravaA = await newConnection(scratch.db, a.id, { service: 'strava' });
    const garminA = await newConnection(scratch.db, a.id, { service: 'garmin_connect' });
    const dropboxA = await newConnection(scratch.db, a.id, { service: 'dropbox' });
    const dropboxB = await newConnection(scratch.db, b.id, { service: 'dropbox' });
    await newConnection(scratch.db, b.id, { service: 'strava' });

    // One activity copied to two services: 30 minutes and 2 hours ago.
    const both = await uploaded(a.id, garminA, 10_000, 30 * MINUTE);
    await repos.ledger.reserveUpload(a.id, dropboxA.id, both.uid, both.id);
    await repos.ledger.completeUpload(a.id, dropboxA.id, both.uid, 'd-1');
    await scratch.db
      .updateTable('uploaded_activities')
      .set({ uploaded_at: new Date(Date.now() - 2 * HOUR) })
      .where('connection_id', '=', dropboxA.id)
      .execute();
    await uploaded(a.id, stravaA, 5_000, 3 * DAY);
    await uploaded(a.id, dropboxA, null, 10 * MINUTE);
    await uploaded(b.id, dropboxB, 20_000, 5 * MINUTE);
    // Reserved but never completed (a crash mid-upload): not synced.
    const pending = await newActivityRecord(scratch.db, b.id);
    await repos.ledger.reserveUpload(b.id, dropboxB.id, pending.uid, pending.id);

    const now = new Date();
    await cron().run(now);
    const snapshot = await stats.latestSnapshot();

    expect(snapshot.at).toEqual(now);
    const overall = (window: string) => [
      value(snapshot, StatsMetric.ActivitiesSynced, { window }),
      value(snapshot, StatsMetric.DistanceSynced, { window }),
    ];
    expect(overall('1h')).toEqual([3, 30_000]);
    expect(overall('24h')).toEqual([3, 30_000]);
    expect(overall('total')).toEqual([4, 35_000]);
    const of = (service: string, window: string) => [
      value(snapshot, StatsMetric.ActivitiesSynced, { window, service }),
      value(snapshot, StatsMetric.DistanceSynced, { window, service }),
    ];
    expect(of('garmin_connect', '1h')).toEqual([1, 10_000]);
    expect(of('dropbox', '1h')).toEqual([2, 20_000]);
    expect(of('dropbox', '24h')).toEqual([3, 30_000]);
    expect(of('strava', '24h')).toEqual([0, 0]);
    expect(of('strava', 'total')).toEqual([1, 5_000]);
    expect(value(snapshot, StatsMetric.Users)).toBe(2);
    expect(value(snapshot, StatsMetric.Connections, { service: 'dropbox' })).toBe(2);
    expect(value(snapshot, StatsMetric.Connections, { service: 'garmin_connect' })).toBe(1);
  });

  it('should store sync duration percentiles of the last hour and leave them out when no sync finished', async () => {
    const u = await newUser(scratch.db);
    await cron().run(new Date());
    const empty = await stats.latestSnapshot();
    expect(empty.samples.filter((s) => s.metric === StatsMetric.SyncDurationMs)).toEqual([]);
    expect(value(empty, StatsMetric.SyncRunsFinished, { status: 'succeeded' })).toBe(0);

    for (const seconds of [10, 20, 30, 40]) await finishedRun(u.id, seconds * 1000, 5 * MINUTE, 'succeeded');
    await finishedRun(u.id, 100_000, 20 * MINUTE, 'failed');
    // Outside the hour: not counted.
    await finishedRun(u.id, 1_000_000, 2 * HOUR, 'succeeded');
    await cron().run(new Date());
    const snapshot = await stats.latestSnapshot();

    // percentile_cont over 10, 20, 30, 40, 100 s interpolates linearly between neighbours.
    expect(value(snapshot, StatsMetric.SyncDurationMs, { quantile: '0.5' })).toBeCloseTo(30_000, 3);
    expect(value(snapshot, StatsMetric.SyncDurationMs, { quantile: '0.95' })).toBeCloseTo(88_000, 3);
    expect(value(snapshot, StatsMetric.SyncDurationMs, { quantile: '0.99' })).toBeCloseTo(97_600, 3);
    expect(value(snapshot, StatsMetric.SyncRunsFinished, { status: 'succeeded' })).toBe(4);
    expect(value(snapshot, StatsMetric.SyncRunsFinished, { status: 'failed' })).toBe(1);
  });

  it('should count users with blocking errors and the most common open error groups per service', async () => {
    const a = await newUser(scratch.db);
    const b = await newUser(scratch.db);
    const c = await newUser(scratch.db);
    const stravaA = await newConnection(scratch.db, a.id, { service: 'strava' });
    const garminA = await newConnection(scratch.db, a.id, { service: 'garmin_connect' });
    const stravaB = await newConnection(scratch.db, b.id, { service: 'strava' });
    const dropboxB = await newConnection(scratch.db, b.id, { service: 'dropbox' });
    const stravaC = await newConnection(scratch.db, c.id, { service: 'strava' });
    const auth = { scope: 'connection' as const, code: 'auth', message: 'revoked', blocking: true };
    await repos.syncErrors.record(a.id, { ...auth, connectionId: stravaA.id });
    await repos.syncErrors.record(b.id, { ...auth, connectionId: stravaB.id });
    const upload = { scope: 'activity' as const, code: 'upload', message: 'HTTP 500' };
    await repos.syncErrors.record(a.id, { ...upload, connectionId: garminA.id, activityUid: 'u1' });
    await repos.syncErrors.record(a.id, { ...upload, connectionId: garminA.id, activityUid: 'u2' });
    await repos.syncErrors.record(a.id, { ...upload, connectionId: garminA.id, activityUid: 'u2' });
    await repos.syncErrors.record(a.id, { ...upload, code: 'download', connectionId: garminA.id, activityUid: 'u3' });
    await repos.syncErrors.record(b.id, { ...upload, connectionId: dropboxB.id, activityUid: 'u9' });
    await repos.syncErrors.record(c.id, { scope: 'account', code: 'suspended', message: 'x', blocking: true });
    // Cleared: no longer counts.
    const gone = await repos.syncErrors.record(c.id, { ...auth, connectionId: stravaC.id });
    await repos.syncErrors.clear(c.id, gone.id);

    await cron().run(new Date());
    const snapshot = await stats.latestSnapshot();

    expect(value(snapshot, StatsMetric.UsersWithBlockingErrors)).toBe(3);
    expect(value(snapshot, StatsMetric.UsersWithBlockingErrors, { service: 'strava' })).toBe(2);
    expect(value(snapshot, StatsMetric.UsersWithBlockingErrors, { service: 'account' })).toBe(1);
    const groups = snapshot.samples
      .filter((s) => s.metric === StatsMetric.ErrorGroupErrors)
      .map((s) => [s.labels.service, s.labels.code, s.value])
      .sort();
    expect(groups).toEqual([
      ['account', 'suspended', 1],
      ['dropbox', 'upload', 1],
      ['garmin_connect', 'download', 1],
      ['garmin_connect', 'upload', 2],
      ['strava', 'auth', 2],
    ]);
    expect(value(snapshot, StatsMetric.ErrorGroupUsers, { service: 'strava', code: 'auth' })).toBe(2);

    await cron(1).run(new Date(Date.now() + 1000));
    const top1 = await stats.latestSnapshot({ metrics: [StatsMetric.ErrorGroupErrors] });
    expect(top1.samples.filter((s) => s.labels.service === 'garmin_connect').map((s) => s.labels.code)).toEqual([
      'upload',
    ]);
  });

  it('should store queue depth and wait per queue', async () => {
    await jobs.enqueue({ name: JobName.SyncUser, data: { userId: 'u1', trigger: 'manual' } }, { priority: 1 });
    await jobs.enqueue({ name: JobName.SyncUser, data: { userId: 'u2', trigger: 'manual' } }, { delayMs: 60_000 });

    await cron().run(new Date());
    const snapshot = await stats.latestSnapshot();

    const sync = { queue: QueueName.Sync };
    expect(value(snapshot, StatsMetric.QueueWaiting, sync)).toBe(1);
    expect(value(snapshot, StatsMetric.QueueDelayed, sync)).toBe(1);
    expect(value(snapshot, StatsMetric.QueueActive, sync)).toBe(0);
    expect(value(snapshot, StatsMetric.QueueOldestWaitingMs, sync)).toBeGreaterThanOrEqual(0);
    expect(value(snapshot, StatsMetric.QueueStarted, sync)).toBe(0);
    expect(value(snapshot, StatsMetric.QueueWaiting, { queue: QueueName.Watchdog })).toBe(0);
    expect(value(snapshot, StatsMetric.QueueWaiting, { queue: QueueName.Maintenance })).toBeUndefined();
  });

  it('should prune samples past the retention and serve series, snapshots and single values', async () => {
    const now = Date.now();
    await stats.recordMany([{ metric: 'old', value: 1 }], new Date(now - 31 * DAY));
    await stats.recordMany([{ metric: 'kept', value: 2 }], new Date(now - 29 * DAY));
    const u = await newUser(scratch.db);
    const dropbox = await newConnection(scratch.db, u.id, { service: 'dropbox' });
    await newConnection(scratch.db, u.id, { service: 'strava' });

    const first = await cron().run(new Date(now - 20 * MINUTE));
    await uploaded(u.id, dropbox, 1_000, 15 * MINUTE);
    await cron().run(new Date(now - 10 * MINUTE));

    expect(first.pruned).toBe(1);
    expect(await stats.series('old')).toEqual([]);
    expect((await stats.series('kept')).map((p) => p.value)).toEqual([2]);
    const total = await stats.series(StatsMetric.ActivitiesSynced, { labels: { window: 'total', service: 'dropbox' } });
    expect(total.map((p) => [p.ts.getTime(), p.value])).toEqual([[now - 10 * MINUTE, 1]]);
    const overall = await stats.series(StatsMetric.ActivitiesSynced, {
      since: new Date(now - HOUR),
      labels: { window: 'total' },
    });
    // Oldest first; the per-service sample of the second run matches the labels too.
    expect(overall.map((p) => p.value)).toEqual([0, 1, 1]);
    expect((await stats.series(StatsMetric.ActivitiesSynced, { labels: { window: 'total' }, limit: 1 })).length).toBe(
      1,
    );
    expect(await stats.latestValue(StatsMetric.ActivitiesSynced, { window: 'total' })).toMatchObject({ value: 1 });
    expect(await stats.metricNames()).toContain(StatsMetric.QueueMeanWaitMs);

    // A metric the newest run did not write keeps its older batch, unless only current figures are asked for.
    const all = await stats.latestSnapshot();
    expect(all.at?.getTime()).toBe(now - 10 * MINUTE);
    expect(all.samples.some((s) => s.metric === 'kept')).toBe(true);
    const current = await stats.latestSnapshot({ currentOnly: true });
    expect(current.samples.some((s) => s.metric === 'kept')).toBe(false);
    expect(current.samples.every((s) => s.ts.getTime() === now - 10 * MINUTE)).toBe(true);
  });
});
