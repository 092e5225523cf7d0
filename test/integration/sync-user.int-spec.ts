import { randomBytes } from 'node:crypto';
import { connectRedis, createLogger, Keyring, type RedisConnection } from '@tributary/common';
import { NestFactory } from '@nestjs/core';
import { type AppConfig, loadConfig } from '@tributary/config';
import { ConnectorRegistry } from '@tributary/connectors';
import { createRepositories, type Repositories } from '@tributary/db';
import { JobName, JobService, JobStatus } from '@tributary/queue';
import { type SandboxHandle } from '../../apps/sandbox/src';
import { SyncUserProcessor } from '../../apps/worker/src/processors/sync-user.processor';
import { SyncFailuresRepository } from '../../apps/worker/src/sync/sync-failures.repository';
import { SyncLeaseLostError, SyncUserService } from '../../apps/worker/src/sync/sync-user.service';
import { type SyncRepositories } from '../../apps/worker/src/sync/sync-user.types';
import { WorkerModule, type WorkerDependencies } from '../../apps/worker/src/worker.module';
import { createTestContext, type TestContext } from './support/test-db';
import {
  SANDBOX_DROPBOX_APP,
  SANDBOX_STRAVA_APP,
  type SandboxAccounts,
  type SandboxControl,
  newSandboxAccounts,
  sandboxHoldings,
  startSandboxWorld,
} from './support/sandbox-users';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const HOUR = 3_600_000;
const logger = createLogger({ level: 'silent' });
/** The simulators keep whole seconds. */
const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;

type SandboxUser = SandboxAccounts;

describe(SyncUserService.name, () => {
  // Several real syncs against the simulators per test; on a loaded machine one takes longer than jest's 5 s default.
  jest.setTimeout(30_000);
  let sb: SandboxHandle;
  let ctx: TestContext;
  let repos: Repositories;
  let connectors: ConnectorRegistry;
  let control: SandboxControl;
  let clockOffsetMs: number;

  function service(overrides: Partial<SyncRepositories> = {}, registry = connectors): SyncUserService {
    return new SyncUserService({
      repos: { ...repos, ...overrides },
      failures: new SyncFailuresRepository(ctx.db),
      connectors: registry,
      logger,
      now: () => Date.now() + clockOffsetMs,
    });
  }

  /** A hub user with Strava, Garmin and Dropbox accounts at the sandbox, connected the way the web app stores them. */
  function newSandboxUser(): Promise<SandboxUser> {
    return newSandboxAccounts({ control, registry: connectors }, ctx.db, repos, { timezone: 'America/Denver' });
  }

  function spec(startMs: number, sport = 'Run') {
    return { start: new Date(startMs).toISOString(), durationSeconds: 900, sport, intervalSeconds: 15 };
  }

  function holdings(u: SandboxUser): Promise<{ strava: number[]; garmin: number[]; dropbox: string[] }> {
    return sandboxHoldings(control, u);
  }

  async function uploadRequests(): Promise<string[]> {
    const log = await control<{ requests: { method: string; service: string; path: string }[] }>('GET', '/requests');
    return log.requests
      .filter((r) => r.method === 'POST' && /upload/i.test(r.path))
      .map((r) => `${r.service} ${r.method} ${r.path}`);
  }

  async function downloadRequests(): Promise<string[]> {
    const log = await control<{ requests: { method: string; service: string; path: string }[] }>('GET', '/requests');
    return log.requests
      .filter((r) => r.method === 'GET' && /download|\/streams/i.test(r.path))
      .map((r) => `${r.service} ${r.method} ${r.path}`);
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
    ctx = createTestContext();
    repos = ctx.repos;
  });

  beforeEach(() => {
    clockOffsetMs = 0;
  });

  afterAll(async () => {
    await sb?.close();
    await ctx?.close();
  });

  it('should copy every activity to every other service of the same user only, and upload nothing the second time', async () => {
    const a = await newSandboxUser();
    const b = await newSandboxUser();
    const day = seconds(Date.now() - 10 * 24 * HOUR);
    await control('POST', '/strava/activities', { athlete: a.athleteId, spec: spec(day) });
    await control('POST', '/garmin/activities', {
      username: a.garminUser,
      spec: spec(day + 26 * HOUR + 11 * 60_000, 'Ride'),
      privacy: 'public',
    });
    await control('POST', '/dropbox/files', {
      account: a.dropboxAccount,
      path: '/Tributary/run/morning.tcx',
      spec: spec(day + 50 * HOUR + 23 * 60_000),
    });
    await control('POST', '/strava/activities', { athlete: b.athleteId, spec: spec(day + 3 * HOUR) });
    await control('POST', '/garmin/activities', {
      username: b.garminUser,
      spec: spec(day + 30 * HOUR + 17 * 60_000),
      privacy: 'public',
    });

    const first = await service().run({ userId: a.userId, trigger: 'manual', workerId: 'test' });
    expect(first).toMatchObject({ status: 'succeeded', counts: { uploaded: 6, merged: 3 } });
    const secondUser = await service().run({ userId: b.userId, trigger: 'manual', workerId: 'test' });
    expect(secondUser).toMatchObject({ status: 'succeeded', counts: { uploaded: 4, merged: 2 } });

    const ha = await holdings(a);
    const hb = await holdings(b);
    const startsA = [day, day + 26 * HOUR + 11 * 60_000, day + 50 * HOUR + 23 * 60_000];
    expect(ha.strava).toEqual(startsA);
    expect(ha.garmin).toEqual(startsA);
    expect(ha.dropbox).toHaveLength(3);
    expect(hb.strava).toEqual([day + 3 * HOUR, day + 30 * HOUR + 17 * 60_000]);
    expect(hb.garmin).toEqual([day + 3 * HOUR, day + 30 * HOUR + 17 * 60_000]);
    expect(hb.dropbox).toHaveLength(2);

    const run = await repos.syncRuns.findById(a.userId, first.runId!);
    expect(run).toMatchObject({ status: 'succeeded', progress: 1, phase: null });
    const record = await repos.activities.findByUid(a.userId, (await repos.activities.listForUser(a.userId))[0]!.uid);
    const presence = await repos.activities.listPresence(a.userId, record!.id);
    expect(presence.map((p) => p.state)).toEqual(['present', 'present', 'present']);

    await control('DELETE', '/requests');
    const again = await service().run({ userId: a.userId, trigger: 'scheduled', workerId: 'test' });
    expect(again.status).toBe('succeeded');
    expect(again.counts.uploaded ?? 0).toBe(0);
    expect(await uploadRequests()).toEqual([]);
    // Garmin lists UTC times without a zone; the zone its file implied was settled by the first sync and is reused,
    // so nothing is downloaded again just to find it.
    expect(await downloadRequests()).toEqual([]);
    expect(again.counts.timezones_remembered).toBeGreaterThan(0);
    expect((await holdings(a)).strava).toEqual(startsA);
    // Strava and Dropbox announce new activities by webhook: without a trigger a partial sync does not list them.
    expect(again.counts.listing_deferred).toBe(2);

    const later = seconds(Date.now() - HOUR);
    await control('POST', '/strava/activities', { athlete: a.athleteId, spec: spec(later), notify: false });
    await repos.connections.setTriggerPartialSync(a.userId, a.connections.strava, true);
    const triggered = await service().run({ userId: a.userId, trigger: 'webhook', workerId: 'test' });
    expect(triggered).toMatchObject({ status: 'succeeded', counts: { uploaded: 2, listing_deferred: 1 } });
    expect((await holdings(a)).garmin).toEqual([...startsA, later]);
    expect((await repos.connections.getForUser(a.userId, a.connections.strava)).trigger_partial_sync).toBe(false);
  });

  it('should not duplicate an upload whose completion was lost in a crash', async () => {
    const u = await newSandboxUser();
    const start = seconds(Date.now() - 5 * 24 * HOUR);
    await control('POST', '/strava/activities', { athlete: u.athleteId, spec: spec(start) });
    const crashing = service({
      ledger: Object.assign(Object.create(repos.ledger) as typeof repos.ledger, {
        completeUpload: () => Promise.reject(new Error('simulated crash after the upload')),
      }),
    });
    await expect(crashing.run({ userId: u.userId, trigger: 'manual', workerId: 'crashing' })).rejects.toThrow(
      'simulated crash',
    );
    const landed = await holdings(u);
    expect(landed.garmin.length + landed.dropbox.length).toBe(1);

    const rerun = await service().run({ userId: u.userId, trigger: 'manual', workerId: 'test' });
    expect(rerun.status).toBe('succeeded');
    const after = await holdings(u);
    expect(after.strava).toEqual([start]);
    expect(after.garmin).toEqual([start]);
    expect(after.dropbox).toHaveLength(1);

    const third = await service().run({ userId: u.userId, trigger: 'manual', workerId: 'test' });
    expect(third.counts.uploaded ?? 0).toBe(0);
    expect(await holdings(u)).toEqual(after);
  });

  it('should resume an in-flight upload the destination does not list yet through its duplicate detection', async () => {
    const u = await newSandboxUser();
    await repos.connections.disconnect(u.userId, u.connections.dropbox);
    const start = seconds(Date.now() - 4 * 24 * HOUR);
    await control('POST', '/strava/activities', { athlete: u.athleteId, spec: spec(start) });
    const crashing = service({
      ledger: Object.assign(Object.create(repos.ledger) as typeof repos.ledger, {
        completeUpload: () => Promise.reject(new Error('simulated crash after the upload')),
      }),
    });
    await expect(crashing.run({ userId: u.userId, trigger: 'manual', workerId: 'crashing' })).rejects.toThrow(
      'simulated crash',
    );
    expect((await holdings(u)).garmin).toEqual([start]);

    // A listing that lags behind (or a partial one that misses it) makes the planner want to upload again.
    const garmin = connectors.get('garmin_connect');
    const lagging = Object.assign(Object.create(garmin) as typeof garmin, {
      listActivities: () => Promise.resolve({ activities: [], exclusions: [] }),
    });
    const registry = new ConnectorRegistry([connectors.get('strava'), lagging, connectors.get('dropbox')]);
    const rerun = await service({}, registry).run({ userId: u.userId, trigger: 'manual', workerId: 'test' });
    expect(rerun).toMatchObject({ status: 'succeeded', counts: { uploaded: 1, resumed_in_flight: 1 } });
    expect((await holdings(u)).garmin).toEqual([start]);
    const upload = await repos.ledger.findUpload(
      u.userId,
      u.connections.garmin,
      (await repos.activities.listForUser(u.userId))[0]!.uid,
    );
    expect(upload).toMatchObject({ state: 'uploaded', remote_id: expect.stringMatching(/^\d+$/) as unknown });

    await control('DELETE', '/requests');
    const third = await service({}, registry).run({ userId: u.userId, trigger: 'manual', workerId: 'test' });
    // The synchronized UIDs recorded after the upload answer before the ledger is even asked.
    expect(third.counts).toMatchObject({ present: 2 });
    expect(third.counts.uploaded).toBeUndefined();
    expect(await uploadRequests()).toEqual([]);
  });

  it('should record a failing destination as partial success and retry it after the backoff', async () => {
    const u = await newSandboxUser();
    const start = seconds(Date.now() - 3 * 24 * HOUR);
    await control('POST', '/strava/activities', { athlete: u.athleteId, spec: spec(start) });
    const fault = await control<{ id: string }>('POST', '/faults', {
      service: 'garmin',
      mount: 'garmin',
      kind: 'status',
      status: 500,
      method: 'POST',
      path: 'upload',
    });

    const failed = await service().run({ userId: u.userId, trigger: 'manual', workerId: 'test' });
    expect(failed.status).toBe('partial');
    expect(failed.counts).toMatchObject({ uploaded: 1, failed: 1 });
    expect(failed.errors).toEqual([
      expect.objectContaining({ code: 'upload', connectionId: u.connections.garmin }) as unknown,
    ]);
    expect((await holdings(u)).garmin).toEqual([]);
    const errors = await repos.syncErrors.listOpen(u.userId, { connectionId: u.connections.garmin });
    expect(errors).toEqual([expect.objectContaining({ scope: 'activity', code: 'upload', blocking: false })]);
    const run = await repos.syncRuns.findById(u.userId, failed.runId!);
    expect(run?.status).toBe('partial');

    await control('DELETE', `/faults/${fault.id}`);
    await control('DELETE', '/requests');
    const waiting = await service().run({ userId: u.userId, trigger: 'manual', workerId: 'test' });
    expect(waiting.counts).toMatchObject({ deferred: 1 });
    expect(await uploadRequests()).toEqual([]);
    expect(waiting.nextWakeAt).toBeGreaterThan(Date.now());

    clockOffsetMs = 20 * 60_000;
    // A scheduled partial sync would skip the untriggered Strava listing, but the due retry needs it.
    const retried = await service().run({ userId: u.userId, trigger: 'scheduled', workerId: 'test' });
    expect(retried).toMatchObject({ status: 'succeeded', counts: { uploaded: 1 } });
    expect((await holdings(u)).garmin).toEqual([start]);
  });

  it('should exclude a connection whose authorisation was revoked and ask the user to reconnect it', async () => {
    const u = await newSandboxUser();
    const start = seconds(Date.now() - 2 * 24 * HOUR);
    await control('POST', '/garmin/activities', { username: u.garminUser, spec: spec(start), privacy: 'public' });
    await control('POST', '/strava/revoke', { athlete: u.athleteId });
    // Garmin lists UTC times without a zone; with Strava out, the user's own zone is the fallback (tapiriik's settz).
    await repos.users.updateSettings(u.userId, { timezoneFallback: 'America/Denver' });

    const result = await service().run({ userId: u.userId, trigger: 'manual', workerId: 'test' });
    expect(result).toMatchObject({ status: 'partial', counts: { uploaded: 1 } });
    expect((await holdings(u)).dropbox).toHaveLength(1);
    expect((await repos.connections.getForUser(u.userId, u.connections.strava)).status).toBe('needs_reauth');
    const errors = await repos.syncErrors.listOpen(u.userId, { connectionId: u.connections.strava });
    expect(errors).toEqual([
      expect.objectContaining({ code: 'auth', blocking: true, intervention: 'reauth', step: 'list' }),
    ]);

    await control('DELETE', '/requests');
    const next = await service().run({ userId: u.userId, trigger: 'manual', workerId: 'test' });
    expect(next.status).toBe('succeeded');
    const log = await control<{ requests: { service: string }[] }>('GET', '/requests');
    expect(log.requests.filter((r) => r.service === 'strava')).toEqual([]);
  });

  it('should download from the next source when the preferred one fails', async () => {
    const u = await newSandboxUser();
    const start = seconds(Date.now() - 7 * 24 * HOUR);
    // The same recording at Garmin (preferred source) and in Dropbox; Strava lacks it.
    await control('POST', '/garmin/activities', { username: u.garminUser, spec: spec(start), privacy: 'public' });
    await control('POST', '/dropbox/files', {
      account: u.dropboxAccount,
      path: '/Tributary/run/same.fit',
      spec: spec(start),
    });
    await control('POST', '/faults', {
      service: 'garmin',
      mount: 'garmin',
      kind: 'status',
      status: 500,
      path: '/download-service/',
    });
    const result = await service().run({ userId: u.userId, trigger: 'manual', workerId: 'test' });
    // Neither Garmin nor a file listing states a zone: the download's track supplies it.
    expect(result).toMatchObject({ status: 'succeeded', counts: { merged: 1, uploaded: 1, timezones_discovered: 1 } });
    expect(result.errors).toEqual([expect.objectContaining({ code: 'download', connectionId: u.connections.garmin })]);
    expect((await holdings(u)).strava).toEqual([start]);
    await control('DELETE', '/faults');
  });

  it('should stop at the next activity when the lease is lost, without finishing the sync', async () => {
    const u = await newSandboxUser();
    await control('POST', '/strava/activities', {
      athlete: u.athleteId,
      spec: spec(seconds(Date.now() - 8 * 24 * HOUR)),
    });
    const run = service().run({
      userId: u.userId,
      trigger: 'manual',
      workerId: 'test',
      keepAlive: () => Promise.resolve(false),
    });
    await expect(run).rejects.toBeInstanceOf(SyncLeaseLostError);
    const [row] = await repos.syncRuns.listRecent(u.userId);
    expect(row).toMatchObject({ status: 'failed', errors: [expect.objectContaining({ code: 'sync_failed' })] });
    const held = await holdings(u);
    expect([...held.garmin, ...held.dropbox]).toEqual([]);
  });

  describe(SyncUserProcessor.name, () => {
    let redis: RedisConnection;
    let jobs: JobService;
    let prefix: string;
    let config: AppConfig;

    beforeAll(async () => {
      redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
      prefix = `test-${randomBytes(6).toString('hex')}`;
      jobs = new JobService(redis, prefix);
      config = loadConfig({
        WORKER_ROLES: 'sync',
        TRIBUTARY_QUEUE_PREFIX: prefix,
        TRIBUTARY_ENCRYPTION_KEYS: `sync${randomBytes(3).toString('hex')}:${randomBytes(32).toString('base64')}`,
        STRAVA_BASE_URL: sb.urls.strava,
        STRAVA_CLIENT_ID: SANDBOX_STRAVA_APP.clientId,
        STRAVA_CLIENT_SECRET: SANDBOX_STRAVA_APP.clientSecret,
        GARMIN_BASE_URL: sb.urls.garmin,
        GARMIN_SSO_URL: sb.urls.garminSso,
        DROPBOX_BASE_URL: sb.urls.dropboxApi,
        DROPBOX_CONTENT_URL: sb.urls.dropboxContent,
        DROPBOX_NOTIFY_URL: sb.urls.dropboxNotify,
        DROPBOX_CLIENT_ID: SANDBOX_DROPBOX_APP.clientId,
        DROPBOX_CLIENT_SECRET: SANDBOX_DROPBOX_APP.clientSecret,
      });
    });

    afterAll(async () => {
      await jobs.close();
      const cleanup = redis.createClient('cleanup');
      const keys = await cleanup.keys(`${prefix}:*`);
      if (keys.length > 0) await cleanup.del(...keys);
      await redis.close();
    });

    function workerDeps(): WorkerDependencies {
      return {
        config,
        logger,
        connection: redis,
        jobs,
        stats: { record: () => Promise.resolve() },
        database: { db: ctx.db, kind: 'server', ping: () => Promise.resolve(), close: () => Promise.resolve() },
      };
    }

    /** Credentials must be readable with the worker's keyring, so these users are stored through one from config. */
    async function workerUser(): Promise<SandboxUser> {
      const previous = repos;
      repos = createRepositories(ctx.db, new Keyring(config.encryptionKeys));
      try {
        return await newSandboxUser();
      } finally {
        repos = previous;
      }
    }

    it('should let exactly one of two concurrent syncs of a user run and reschedule the other', async () => {
      const u = await workerUser();
      const sut = new SyncUserProcessor(workerDeps());
      // Slow listings keep the first sync inside its lease while the second one tries.
      await control('POST', '/faults', { service: 'strava', kind: 'latency', ms: 300, account: u.athleteId });

      const data = { userId: u.userId, trigger: 'manual' as const };
      const statuses = await Promise.all([
        sut.syncUser(data, { jobId: `${JobName.SyncUser}-a`, attempt: 1 }),
        sut.syncUser(data, { jobId: `${JobName.SyncUser}-b`, attempt: 1 }),
      ]);
      expect([...statuses].sort()).toEqual([JobStatus.Skipped, JobStatus.Success].sort());
      const runs = await repos.syncRuns.listRecent(u.userId);
      expect(runs).toHaveLength(1);
      expect(runs[0]?.status).toBe('succeeded');
      const user = await repos.users.getById(u.userId);
      expect(user.lease_owner).toBeNull();
      expect(user.next_sync_at).not.toBeNull();
    });

    it('should sync a user from a queued job in a worker booted with the sync role', async () => {
      const u = await workerUser();
      const start = seconds(Date.now() - 6 * 24 * HOUR);
      await control('POST', '/strava/activities', { athlete: u.athleteId, spec: spec(start) });
      const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(workerDeps()), {
        logger: false,
        abortOnError: false,
      });
      try {
        await jobs.enqueue({ name: JobName.SyncUser, data: { userId: u.userId, trigger: 'manual' } });
        const deadline = Date.now() + 15_000;
        let runs = await repos.syncRuns.listRecent(u.userId);
        while (runs[0]?.status !== 'succeeded' && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          runs = await repos.syncRuns.listRecent(u.userId);
        }
        expect(runs[0]).toMatchObject({ status: 'succeeded', trigger: 'manual' });
        const held = await holdings(u);
        expect(held.garmin).toEqual([start]);
        expect(held.dropbox).toHaveLength(1);
        expect((await repos.users.getById(u.userId)).lease_owner).toBeNull();
      } finally {
        await app.close();
      }
    });
  });
});
