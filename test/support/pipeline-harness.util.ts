/**
 * The whole sync pipeline against the provider sandbox, shared by the pipeline e2e test, the worker crash test and
 * the pipeline bench: a hub database, the real Redis under a private queue prefix, the sandbox, the web app
 * (webhooks) and the worker, either in this process (Nest apps) or as a child process that can be killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { type INestApplication, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import {
  Keyring,
  PermanentError,
  connectRedis,
  createLogger,
  type Logger,
  type RedisConnection,
} from '@tributary/common';
import { type AppConfig, loadConfig } from '@tributary/config';
import { ConnectorRegistry, UnlimitedRateLimiter, createConnectors } from '@tributary/connectors';
import { createRepositories, openDatabase, type Database, type Repositories } from '@tributary/db';
import { JobName, JobService, QueueName } from '@tributary/queue';
import { type SandboxHandle, type SandboxOptions, startSandbox } from '../../apps/sandbox/src';
import { WebModule } from '../../apps/web/src/web.module';
import { WorkerModule } from '../../apps/worker/src/worker.module';

const ROOT = resolve(__dirname, '..', '..');
export const PG_ADMIN_URL = process.env.TRIBUTARY_E2E_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The sandbox's default app credentials (apps/sandbox/README.md). */
export const STRAVA_APP = { clientId: '12345', clientSecret: 'sandbox-strava-secret' };
export const DROPBOX_APP = { clientId: 'sandbox-dropbox-key', clientSecret: 'sandbox-dropbox-secret' };
export const STRAVA_VERIFY_TOKEN = 'pipeline-verify-token';
export const HOUR_MS = 3_600_000;
/** The sandbox's Strava app limits, raised like the hub's (STRAVA_RATE_LIMITS below) so neither side paces. */
const SANDBOX_STRAVA_LIMITS: { overall: [number, number]; read: [number, number] } = {
  overall: [100_000, 1_000_000],
  read: [100_000, 1_000_000],
};

/** Fails a wait in a test or bench with a message naming what never happened. */
export class HarnessTimeoutError extends PermanentError {
  constructor(what: string, timeoutMs: number) {
    super('harness_timeout', `${what} did not happen within ${timeoutMs} ms`);
  }
}

export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new HarnessTimeoutError(what, timeoutMs);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The simulators keep whole seconds. */
export const wholeSeconds = (ms: number): number => Math.floor(ms / 1000) * 1000;

/** A generated recording for the control API's `spec` source. */
export function activitySpec(startMs: number, sport = 'Run', durationSeconds = 900) {
  return { start: new Date(startMs).toISOString(), durationSeconds, sport, intervalSeconds: 15 };
}

export interface SandboxRequest {
  seq: number;
  service: string;
  method: string;
  path: string;
  route?: string;
  status: number;
  timestamp: string;
  account?: string;
}

/** What one provider API call was, for counting calls per synced activity. */
export type RequestKind = 'upload' | 'upload_status' | 'listing' | 'download' | 'other';

export function classifyRequest(r: Pick<SandboxRequest, 'method' | 'path'>): RequestKind {
  const { method, path } = r;
  if (method === 'POST' && /^\/api\/v3\/uploads$|^\/upload-service\/upload|^\/2\/files\/upload$/.test(path)) {
    return 'upload';
  }
  if (method === 'GET' && /^\/api\/v3\/uploads\/|^\/activity-service\/activity\/status\//.test(path)) {
    return 'upload_status';
  }
  if (
    /^\/api\/v3\/athlete\/activities$|\/activities\/search\/activities$|^\/2\/files\/list_folder(\/continue)?$/.test(
      path,
    )
  ) {
    return 'listing';
  }
  if (/\/streams|^\/download-service\/|^\/2\/files\/download$/.test(path)) return 'download';
  return 'other';
}

/** The sandbox's /_control API. */
export class SandboxControl {
  constructor(readonly sandbox: SandboxHandle) {}

  async call<T = unknown>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.sandbox.urls.control}${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 400) {
      throw new PermanentError('sandbox_control', `control ${method} ${route}: ${res.status} ${text}`);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  async requests(sinceSeq = 0): Promise<{ lastSeq: number; requests: SandboxRequest[] }> {
    return this.call('GET', `/requests?sinceSeq=${sinceSeq}`);
  }

  /** Upload requests (POSTs that create an activity or file) logged after `sinceSeq`. */
  async uploads(sinceSeq = 0): Promise<SandboxRequest[]> {
    const log = await this.call<{ requests: SandboxRequest[] }>('GET', `/requests?sinceSeq=${sinceSeq}&method=POST`);
    return log.requests.filter((r) => classifyRequest(r) === 'upload');
  }

  /** Waits for webhook deliveries still in flight (Dropbox debounces its notifications first). */
  async settle(): Promise<void> {
    await new Promise((r) => setTimeout(r, 100));
    await this.call('POST', '/settle');
  }
}

/** Environment for the hub's config (and a worker child process) pointing every provider at the sandbox. */
export function sandboxEnv(sandbox: SandboxHandle): Record<string, string> {
  return {
    STRAVA_BASE_URL: sandbox.urls.strava,
    STRAVA_CLIENT_ID: STRAVA_APP.clientId,
    STRAVA_CLIENT_SECRET: STRAVA_APP.clientSecret,
    STRAVA_WEBHOOK_VERIFY_TOKEN: STRAVA_VERIFY_TOKEN,
    GARMIN_BASE_URL: sandbox.urls.garmin,
    GARMIN_SSO_URL: sandbox.urls.garminSso,
    DROPBOX_BASE_URL: sandbox.urls.dropboxApi,
    DROPBOX_CONTENT_URL: sandbox.urls.dropboxContent,
    DROPBOX_NOTIFY_URL: sandbox.urls.dropboxNotify,
    DROPBOX_CLIENT_ID: DROPBOX_APP.clientId,
    DROPBOX_CLIENT_SECRET: DROPBOX_APP.clientSecret,
  };
}

/** A fresh database on the local Postgres server (for e2e tests and benches, outside jest's integration setup). */
export async function createServerDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  return {
    url: PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`),
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** A hub user with a Strava athlete, a Garmin account and a Dropbox account at the sandbox, all three connected. */
export interface PipelineUser {
  userId: string;
  athleteId: string;
  garminUser: string;
  dropboxAccount: string;
  connections: { strava: string; garmin: string; dropbox: string };
}

/** The Dropbox folder the hub's Dropbox connections sync. */
export const DROPBOX_FOLDER = '/Tributary';

/** Where each service holds a user's activities, read from the sandbox's own state (never the hub's database). */
export interface Holdings {
  /** Start times (ms) of the athlete's Strava activities. */
  strava: number[];
  /** Start times (ms) of the Garmin account's activities. */
  garmin: number[];
  /** Activity file paths in the Dropbox account. */
  dropbox: string[];
}

export interface PipelineHub {
  sandbox: SandboxHandle;
  control: SandboxControl;
  config: AppConfig;
  /** Environment a worker child process needs (database, Redis prefix, keys, provider URLs, thresholds). */
  env: Record<string, string>;
  database: Database;
  repos: Repositories;
  redis: RedisConnection;
  jobs: JobService;
  /** Connectors of the test itself (Garmin sign-in when connecting users). */
  connectors: ConnectorRegistry;
  /** The web app's URL when it was started. */
  webUrl?: string;
  newUser(): Promise<PipelineUser>;
  holdings(user: PipelineUser): Promise<Holdings>;
  /** Subscribes the web app to Strava push events and Dropbox notifications. */
  subscribeWebhooks(): Promise<void>;
  /** Starts the worker in this process (a Nest application context like apps/worker/src/main.ts builds). */
  startWorker(overrides?: Record<string, string>): Promise<INestApplicationContext>;
  /** Starts the worker as a child process from its TypeScript sources (as scripts/demo.ts does). */
  spawnWorker(name: string, overrides?: Record<string, string>): WorkerProcess;
  close(): Promise<void>;
}

export interface PipelineHubOptions {
  /** An existing (migrated or empty) database; otherwise a fresh one on the local server, dropped on close. */
  databaseUrl?: string;
  sandbox?: SandboxOptions;
  /** Extra configuration (SYNC_*, WORKER_ROLES, …) for the hub and its worker. */
  env?: Record<string, string>;
  /** Start the web app (webhooks) listening on a random port. */
  web?: boolean;
  logger?: Logger;
  /** Directory for worker child process logs. */
  logDir?: string;
}

export interface WorkerProcess {
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
  /** SIGKILL: no shutdown hook, no drain, no lease release. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPipelineHub(options: PipelineHubOptions = {}): Promise<PipelineHub> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };
  const logger = options.logger ?? createLogger({ level: 'silent' });
  try {
    let databaseUrl = options.databaseUrl;
    if (databaseUrl === undefined) {
      const created = await createServerDatabase('tributary_pipeline');
      cleanups.push(() => created.drop());
      databaseUrl = created.url;
    }
    const sandbox = await startSandbox({
      port: 0,
      ...options.sandbox,
      strava: { rateLimits: SANDBOX_STRAVA_LIMITS, ...options.sandbox?.strava },
    });
    cleanups.push(() => sandbox.close());
    const control = new SandboxControl(sandbox);
    const prefix = `test-pipeline-${randomBytes(5).toString('hex')}`;
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '8',
      REDIS_URL,
      TRIBUTARY_QUEUE_PREFIX: prefix,
      TRIBUTARY_ENCRYPTION_KEYS: `pipe:${randomBytes(32).toString('base64')}`,
      SYNC_WEBHOOK_DEBOUNCE_SECONDS: '0',
      // Provider pacing is not what these runs measure: Strava's default app budget (100 reads per 15 min) and
      // Garmin's 1 call/s would make 50 users take a quarter of an hour. Override to test the pacing itself.
      STRAVA_RATE_LIMITS: '100000,1000000,100000,1000000',
      GARMIN_REQUESTS_PER_SECOND: '1000',
      ...sandboxEnv(sandbox),
      ...options.env,
    };
    let config = loadConfig(env);
    const database = await openDatabase(config.database, { applicationName: 'tributary-pipeline-test' });
    cleanups.push(() => database.close());
    const redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
    cleanups.push(() => redis.close());
    const jobs = new JobService(redis, prefix);
    cleanups.push(async () => {
      await jobs.close();
      const client = redis.createClient('cleanup');
      const keys = await client.keys(`${prefix}:*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    });
    const repos = createRepositories(database.db, new Keyring(config.encryptionKeys));
    const connectors = new ConnectorRegistry(
      createConnectors(config.services, { limiter: new UnlimitedRateLimiter() }),
    );

    let webUrl: string | undefined;
    if (options.web === true) {
      const app: INestApplication = await NestFactory.create(
        WebModule.forRoot({
          config,
          logger,
          jobs,
          checks: { postgres: () => database.ping(), redis: () => redis.ping(500) },
          site: { database, keyring: new Keyring(config.encryptionKeys), connectors },
        }),
        { logger: false, abortOnError: false, rawBody: true },
      );
      await app.listen(0, '127.0.0.1');
      cleanups.push(() => app.close());
      webUrl = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
      env.TRIBUTARY_PUBLIC_URL = webUrl;
      config = loadConfig(env);
    }

    const newUser = async (): Promise<PipelineUser> => {
      const user = await repos.users.create();
      const tag = randomBytes(4).toString('hex');
      const strava = await control.call<{ athlete: { id: number }; token: Record<string, string | number> }>(
        'POST',
        '/strava/athletes',
        { firstname: `u${tag}`, token: {}, timezone: 'America/Denver' },
      );
      const garminUser = `g${tag}@example.com`;
      await control.call('POST', '/garmin/accounts', { username: garminUser, password: 'pw' });
      const garminAccount = await connectors.get('garmin_connect').authorize!({ username: garminUser, password: 'pw' });
      const dropbox = await control.call<{ accountId: string; token: Record<string, string | number> }>(
        'POST',
        '/dropbox/accounts',
        { token: { offline: true } },
      );
      const s = await repos.connections.connect(user.id, {
        service: 'strava',
        externalUserId: String(strava.athlete.id),
        credentials: {
          accessToken: strava.token.access_token,
          refreshToken: strava.token.refresh_token,
          expiresAt: strava.token.expires_at,
        },
      });
      const g = await repos.connections.connect(user.id, {
        service: 'garmin_connect',
        externalUserId: garminAccount.externalUserId,
        credentials: garminAccount.credentials,
      });
      const d = await repos.connections.connect(user.id, {
        service: 'dropbox',
        externalUserId: dropbox.accountId,
        credentials: {
          accessToken: dropbox.token.access_token,
          refreshToken: dropbox.token.refresh_token,
          expiresAt: dropbox.token.expires_at,
        },
        config: { folder: DROPBOX_FOLDER },
      });
      return {
        userId: user.id,
        athleteId: String(strava.athlete.id),
        garminUser,
        dropboxAccount: dropbox.accountId,
        connections: { strava: s.id, garmin: g.id, dropbox: d.id },
      };
    };

    const holdings = async (u: PipelineUser): Promise<Holdings> => {
      const toMs = (s: string) => Date.parse(s.endsWith('Z') || s.includes('+') ? s : `${s.replace(' ', 'T')}Z`);
      const strava = await control.call<{ start_date: string }[]>('GET', `/strava/activities?athlete=${u.athleteId}`);
      const garmin = await control.call<{ startTimeGMT: string }[]>(
        'GET',
        `/garmin/activities?username=${encodeURIComponent(u.garminUser)}`,
      );
      const files = await control.call<{ path_display?: string; path?: string }[]>(
        'GET',
        `/dropbox/files?account=${encodeURIComponent(u.dropboxAccount)}`,
      );
      return {
        strava: strava.map((a) => toMs(a.start_date)).sort((a, b) => a - b),
        garmin: garmin.map((a) => toMs(a.startTimeGMT)).sort((a, b) => a - b),
        dropbox: files
          .map((f) => f.path_display ?? f.path ?? '')
          .filter((p) => /\.(fit|tcx|gpx)$/i.test(p))
          .sort(),
      };
    };

    const subscribeWebhooks = async (): Promise<void> => {
      if (webUrl === undefined) throw new PermanentError('harness', 'start the hub with web: true to get webhooks');
      const res = await fetch(`${sandbox.urls.strava}/api/v3/push_subscriptions`, {
        method: 'POST',
        body: new URLSearchParams({
          client_id: STRAVA_APP.clientId,
          client_secret: STRAVA_APP.clientSecret,
          callback_url: `${webUrl}/webhooks/strava`,
          verify_token: STRAVA_VERIFY_TOKEN,
        }),
      });
      if (res.status !== 201) {
        throw new PermanentError('harness', `Strava push subscription: ${res.status} ${await res.text()}`);
      }
      await control.call('PUT', '/dropbox/webhook', { url: `${webUrl}/webhooks/dropbox` });
    };

    const startWorker = async (overrides: Record<string, string> = {}): Promise<INestApplicationContext> => {
      const workerConfig = loadConfig({ ...env, ...overrides });
      const app = await NestFactory.createApplicationContext(
        WorkerModule.forRoot({
          config: workerConfig,
          logger,
          connection: redis,
          jobs,
          stats: { record: () => Promise.resolve() },
          database,
        }),
        { logger: false, abortOnError: false },
      );
      cleanups.push(() => app.close());
      return app;
    };

    const spawnWorker = (name: string, overrides: Record<string, string> = {}): WorkerProcess => {
      const logFile = join(options.logDir ?? '/tmp', `tributary-${prefix}-${name}.log`);
      const log = createWriteStream(logFile, { flags: 'a' });
      const child = spawn(
        process.execPath,
        ['--require', join(ROOT, 'scripts', 'register-ts.js'), join(ROOT, 'apps', 'worker', 'src', 'main.ts')],
        // WORKER_HTTP_PORT 0: the probes/metrics server takes a free port, so workers never fight over 3000.
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, WORKER_HTTP_PORT: '0', ...env, ...overrides },
          stdio: 'pipe',
        },
      );
      child.stdout.pipe(log, { end: false });
      child.stderr.pipe(log, { end: false });
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      void exited.then(() => log.end());
      const stop = async (): Promise<void> => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      };
      cleanups.push(stop);
      return {
        child,
        logFile,
        exited,
        stop,
        kill9: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      };
    };

    return {
      sandbox,
      control,
      config,
      env,
      database,
      repos,
      redis,
      jobs,
      connectors,
      ...(webUrl === undefined ? {} : { webUrl }),
      newUser,
      holdings,
      subscribeWebhooks,
      startWorker,
      spawnWorker,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** True when no sync of the user is queued, delayed or running in BullMQ and no run of theirs is open. */
export async function syncIdle(hub: PipelineHub, userIds: readonly string[]): Promise<boolean> {
  const queue = hub.jobs.queue(QueueName.Sync);
  const counts = await queue.getJobCounts('waiting', 'active', 'prioritized');
  const busy = (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.prioritized ?? 0);
  if (busy > 0) return false;
  const delayed = await queue.getJobs(['delayed']);
  if (delayed.some((j) => j.name === String(JobName.SyncUser))) return false;
  const open = await hub.database.db
    .selectFrom('sync_runs')
    .select('id')
    .where('user_id', 'in', [...userIds])
    .where('status', 'in', ['queued', 'running'])
    .executeTakeFirst();
  return open === undefined;
}
