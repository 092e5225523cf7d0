import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { type INestApplicationContext } from '@nestjs/common';
import { sql } from 'kysely';
import { connectRedis, createLogger, Keyring, type RedisConnection } from '@tributary/common';
import { type AppConfig, loadConfig } from '@tributary/config';
import { StatsRepository, createRepositories, type Repositories } from '@tributary/db';
import { JobName, JobService, QueueName } from '@tributary/queue';
import { ConnectorRegistry, UnlimitedRateLimiter, createConnectors } from '@tributary/connectors';
import { type SandboxHandle, startSandbox } from '../../apps/sandbox/src';
import { startWorkerHttpServer, type WorkerHttpServer } from '../../apps/worker/src/http/worker-http.server';
import { createWorkerMetrics } from '../../apps/worker/src/http/worker-metrics.factory';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { newUser } from './support/factories';
import { SANDBOX_DROPBOX_APP, SANDBOX_STRAVA_APP, type SandboxControl, sandboxControl } from './support/sandbox-users';
import { createTestContext, type TestContext } from './support/test-db';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const HOUR = 3_600_000;
const TOKEN = `metrics-${randomBytes(12).toString('hex')}`;

/** `name{labels} value` lines of a Prometheus text scrape, value by series. */
function parseScrape(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    series.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return series;
}

/** Sum of the series of `name` whose labels include every `label="value"` given. */
function total(series: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of series) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

/*
 * The worker as main.ts wires it (WorkerModule with its metrics, the HTTP server), a real sync of a sandbox user
 * through the queue, then a scrape over HTTP: the counters must have moved.
 */
describe('worker /metrics after a sync', () => {
  let sb: SandboxHandle;
  let control: SandboxControl;
  let ctx: TestContext;
  let redis: RedisConnection;
  let jobs: JobService;
  let prefix: string;
  let config: AppConfig;
  let repos: Repositories;
  let worker: INestApplicationContext;
  let http: WorkerHttpServer;

  async function scrape(): Promise<Map<string, number>> {
    const res = await fetch(`${http.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    return parseScrape(await res.text());
  }

  beforeAll(async () => {
    sb = await startSandbox({ port: 0, strava: { uploadProcessingPolls: 0 }, garmin: { uploadProcessingPolls: 0 } });
    control = sandboxControl(sb);
    ctx = createTestContext();
    redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
    prefix = `test-${randomBytes(6).toString('hex')}`;
    jobs = new JobService(redis, prefix);
    config = loadConfig({
      WORKER_ROLES: 'sync',
      TRIBUTARY_QUEUE_PREFIX: prefix,
      TRIBUTARY_ENCRYPTION_KEYS: `met${randomBytes(3).toString('hex')}:${randomBytes(32).toString('base64')}`,
      TRIBUTARY_METRICS_TOKEN: TOKEN,
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
    repos = createRepositories(ctx.db, new Keyring(config.encryptionKeys));
    const database = {
      db: ctx.db,
      kind: 'server' as const,
      ping: async () => void (await sql`SELECT 1`.execute(ctx.db)),
      close: () => Promise.resolve(),
    };
    const metrics = createWorkerMetrics({ jobs, database, processMetrics: false });
    const logger = createLogger({ level: 'silent' });
    worker = await NestFactory.createApplicationContext(
      WorkerModule.forRoot({
        config,
        logger,
        connection: redis,
        jobs,
        stats: new StatsRepository(ctx.db),
        database,
        metrics,
      }),
      { logger: false, abortOnError: false },
    );
    http = await startWorkerHttpServer({
      port: 0,
      host: '127.0.0.1',
      registry: metrics.registry,
      checks: { postgres: () => database.ping(), redis: () => redis.ping(1000) },
      logger,
      metricsToken: config.observability.metricsToken,
    });
  });

  afterAll(async () => {
    await http?.close();
    await worker?.close();
    for (const name of Object.values(QueueName)) await jobs?.queue(name).obliterate({ force: true });
    await jobs?.close();
    await redis?.close();
    await sb?.close();
    await ctx?.close();
  });

  /** A hub user with one Strava activity, and Garmin and Dropbox accounts to copy it to. */
  async function sandboxUser(start: number): Promise<string> {
    const user = await newUser(ctx.db);
    const tag = randomBytes(4).toString('hex');
    const strava = await control<{ athlete: { id: number }; token: Record<string, string | number> }>(
      'POST',
      '/strava/athletes',
      { firstname: `m${tag}`, token: {}, timezone: 'Europe/Berlin' },
    );
    const spec = { start: new Date(start).toISOString(), durationSeconds: 900, sport: 'Run', intervalSeconds: 15 };
    await control('POST', '/strava/activities', { athlete: String(strava.athlete.id), spec });
    const garminUser = `m${tag}@example.com`;
    await control('POST', '/garmin/accounts', { username: garminUser, password: 'pw' });
    // Only to sign in to the Garmin simulator the way the web app does; the worker builds its own connectors.
    const registry = new ConnectorRegistry(createConnectors(config.services, { limiter: new UnlimitedRateLimiter() }));
    const garmin = await registry.get('garmin_connect').authorize!({ username: garminUser, password: 'pw' });
    const dropbox = await control<{ accountId: string; token: Record<string, string | number> }>(
      'POST',
      '/dropbox/accounts',
      { token: { offline: true } },
    );
    const oauth = (t: Record<string, string | number>) => ({
      accessToken: t.access_token,
      refreshToken: t.refresh_token,
      expiresAt: t.expires_at,
    });
    await repos.connections.connect(user.id, {
      service: 'strava',
      externalUserId: String(strava.athlete.id),
      credentials: oauth(strava.token),
    });
    await repos.connections.connect(user.id, {
      service: 'garmin_connect',
      externalUserId: garmin.externalUserId,
      credentials: garmin.credentials,
    });
    await repos.connections.connect(user.id, {
      service: 'dropbox',
      externalUserId: dropbox.accountId,
      credentials: oauth(dropbox.token),
      config: { folder: '/Tributary' },
    });
    return user.id;
  }

  it('should be ready with Postgres and Redis up, and refuse a scrape without the token', async () => {
    const res = await fetch(`${http.url}/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
    expect((await fetch(`${http.url}/metrics`)).status).toBe(401);
  });

  it('should show the sync, its uploads, the API calls and the budgets once a queued sync ran', async () => {
    const metric = `metrics_test_${randomBytes(4).toString('hex')}`;
    await new StatsRepository(ctx.db).record(metric, 17, { window: '24h' });
    const before = await scrape();
    const userId = await sandboxUser(Math.floor((Date.now() - 3 * 24 * HOUR) / 1000) * 1000);

    await jobs.enqueue({ name: JobName.SyncUser, data: { userId, trigger: 'manual' } });
    const deadline = Date.now() + 20_000;
    let runs = await repos.syncRuns.listRecent(userId);
    while (runs[0]?.status !== 'succeeded' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      runs = await repos.syncRuns.listRecent(userId);
    }
    expect(runs[0]).toMatchObject({ status: 'succeeded', counts: { uploaded: 2 } });
    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, labels) - total(before, name, labels);

    expect(moved('tributary_activities_synced_total', { service: 'garmin_connect' })).toBe(1);
    expect(moved('tributary_activities_synced_total', { service: 'dropbox' })).toBe(1);
    expect(moved('tributary_activities_synced_total', { service: 'strava' })).toBe(0);
    expect(moved('tributary_sync_duration_seconds_count', { trigger: 'manual', status: 'succeeded' })).toBe(1);
    for (const service of ['strava', 'garmin_connect', 'dropbox']) {
      expect({ service, called: moved('tributary_api_requests_total', { service }) > 0 }).toEqual({
        service,
        called: true,
      });
    }
    expect(
      moved('tributary_api_requests_total', { service: 'strava', operation: 'list', status: '200' }),
    ).toBeGreaterThan(0);
    // Strava's app-wide budgets were touched by the listing.
    const left = total(after, 'tributary_rate_limit_remaining', { service: 'strava', bucket: 'strava:15m' });
    const size = total(after, 'tributary_rate_limit_capacity', { service: 'strava', bucket: 'strava:15m' });
    expect(size).toBeGreaterThan(0);
    expect(left).toBeLessThan(size);
    // Per-user budgets (Dropbox paces each account) would be one series per user: never exported.
    expect([...after.keys()].filter((k) => k.includes('bucket="dropbox:'))).toEqual([]);
    expect(total(after, 'tributary_queue_waiting', { queue: 'sync' })).toBe(0);
    // Every state of every queue is exported, zero or not (the job itself may still be finishing).
    for (const queue of Object.values(QueueName)) {
      expect(after.has(`tributary_jobs{queue="${queue}",state="failed"}`)).toBe(true);
    }
    expect(total(after, 'tributary_hub_stat', { metric, series: 'window=24h' })).toBe(17);
  });
});
