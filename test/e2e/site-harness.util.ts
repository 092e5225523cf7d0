import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type INestApplication, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type Redis from 'ioredis';
import { Client } from 'pg';
import { connectRedis, createLogger, type RedisConnection, Keyring } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import { ConnectorRegistry, RedisRateLimiter, createConnectors } from '@tributary/connectors';
import { type Database, openDatabase } from '@tributary/db';
import { JobService } from '@tributary/queue';
import { type SandboxHandle, startSandbox } from '../../apps/sandbox/src';
import { WebModule } from '../../apps/web/src/web.module';
import { WorkerModule } from '../../apps/worker/src/worker.module';

const ADMIN_URL = process.env.TRIBUTARY_E2E_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface SiteHarness {
  app: INestApplication;
  sandbox: SandboxHandle;
  database: Database;
  /** The hub's public URL (the app listens there). */
  url: string;
  control(method: string, route: string, body?: unknown): Promise<unknown>;
  /** The queues under a private prefix, when started with `queues: true` ("Sync now", admin, Bull Board). */
  jobs?: JobService;
  /** Starts a worker (every role) in this process on those queues; closed with the harness. */
  startWorker(): Promise<INestApplicationContext>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/**
 * The web app (site module included) against a fresh database on the real Postgres, the real Redis (rate limiter,
 * under a private key prefix) and the provider sandbox, listening on a real port so browsers can follow redirects.
 */
export async function startSiteHarness(
  opts: {
    queues?: boolean;
    /** Extra configuration, e.g. SYNC_NOW_COOLDOWN_SECONDS. */
    env?: Record<string, string>;
  } = {},
): Promise<SiteHarness> {
  const dbName = `tributary_site_e2e_${randomBytes(5).toString('hex')}`;
  const redisPrefix = `test:${randomBytes(5).toString('hex')}:`;
  const queuePrefix = `test-site-${randomBytes(5).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${dbName}`);
  const cleanups: (() => Promise<void>)[] = [() => adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)];
  const close = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const sandbox = await startSandbox({ port: 0 });
    cleanups.push(() => sandbox.close());
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '4',
      REDIS_URL,
      TRIBUTARY_PUBLIC_URL: url,
      TRIBUTARY_QUEUE_PREFIX: queuePrefix,
      TRIBUTARY_ENCRYPTION_KEYS: `e2e:${randomBytes(32).toString('base64')}`,
      STRAVA_BASE_URL: sandbox.urls.strava,
      STRAVA_CLIENT_ID: '12345',
      STRAVA_CLIENT_SECRET: 'sandbox-strava-secret',
      DROPBOX_BASE_URL: sandbox.urls.dropboxApi,
      DROPBOX_CONTENT_URL: sandbox.urls.dropboxContent,
      DROPBOX_NOTIFY_URL: sandbox.urls.dropboxNotify,
      DROPBOX_CLIENT_ID: 'sandbox-dropbox-key',
      DROPBOX_CLIENT_SECRET: 'sandbox-dropbox-secret',
      GARMIN_BASE_URL: sandbox.urls.garmin,
      GARMIN_SSO_URL: sandbox.urls.garminSso,
      ...opts.env,
    });
    const database = await openDatabase(config.database, { applicationName: 'tributary-site-e2e' });
    cleanups.push(() => database.close());
    const redis: RedisConnection = await connectRedis(config.redis);
    cleanups.push(() => redis.close());
    const limiterClient = redis.createClient('site-e2e');
    cleanups.push(() => deleteKeys(limiterClient, redisPrefix));
    const connectors = new ConnectorRegistry(
      createConnectors(config.services, { limiter: new RedisRateLimiter(limiterClient, { prefix: redisPrefix }) }),
    );
    let jobs: JobService | undefined;
    if (opts.queues === true) {
      const queues = new JobService(redis, queuePrefix);
      jobs = queues;
      cleanups.push(async () => {
        await queues.close();
        await deleteKeys(limiterClient, `${queuePrefix}:`);
      });
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        WebModule.forRoot({
          config,
          logger: createLogger({ level: 'silent' }),
          checks: { postgres: () => database.ping(), redis: () => redis.ping(500) },
          site: { database, keyring: new Keyring(config.encryptionKeys), connectors },
          ...(jobs === undefined ? {} : { jobs }),
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.listen(port, '127.0.0.1');
    cleanups.push(() => app.close());
    const control = async (method: string, route: string, body?: unknown): Promise<unknown> => {
      const res = await fetch(`${sandbox.urls.control}${route}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status >= 400) throw new TypeError(`control ${method} ${route}: ${res.status} ${text}`);
      return text === '' ? undefined : (JSON.parse(text) as unknown);
    };
    const startWorker = async (): Promise<INestApplicationContext> => {
      if (jobs === undefined) throw new TypeError('start the site harness with queues: true to run a worker');
      const worker = await NestFactory.createApplicationContext(
        WorkerModule.forRoot({
          config,
          logger: createLogger({ level: 'silent' }),
          connection: redis,
          jobs,
          stats: { record: () => Promise.resolve() },
          database,
        }),
        { logger: false, abortOnError: false },
      );
      // Before the web app and the queues close, so no job is left half done against a closed pool.
      cleanups.push(() => worker.close());
      return worker;
    };
    return { app, sandbox, database, url, control, jobs, startWorker, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The app's HTTP server, for supertest. */
export function httpServer(h: SiteHarness): Server {
  return h.app.getHttpServer() as Server;
}
