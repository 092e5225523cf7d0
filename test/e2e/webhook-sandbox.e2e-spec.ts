import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import { PermanentError, connectRedis, createLogger, type RedisConnection } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import { ConnectionRepository, UserRepository, createDatabase, migrateToLatest, type Database } from '@tributary/db';
import { JobName, JobService, QueueName, jobIdFor } from '@tributary/queue';
import { type SandboxHandle, startSandbox } from '../../apps/sandbox/src';
import { GlobalExceptionFilter } from '../../apps/web/src/middleware/global-exception.filter';
import { WebhooksModule } from '../../apps/web/src/webhooks/webhooks.module';
import { ROOT_LOGGER } from '../../apps/web/src/web.tokens';

const ADMIN_URL = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const STRAVA_APP = { clientId: 'webhook-app', clientSecret: 'webhook-app-secret' };
const DROPBOX_APP = { clientId: 'webhook-dbx', clientSecret: 'webhook-dbx-secret' };
const VERIFY_TOKEN = 'sandbox-verify-token';

async function control(sb: SandboxHandle, method: string, route: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${sb.urls.control}${route}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400)
    throw new PermanentError('control_failed', `control ${method} ${route}: ${res.status} ${text}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

interface Delivery {
  service: string;
  kind: string;
  delivered: boolean;
  attempts: { status?: number }[];
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new PermanentError('test_timeout', `${what} did not arrive`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The provider simulators deliver their real webhooks (handshakes, events, signatures) to the web app's endpoints. */
describe('webhooks from the provider simulators', () => {
  let dbName: string;
  let database: Database;
  let redis: RedisConnection;
  let jobs: JobService;
  let sb: SandboxHandle;
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    dbName = `tributary_e2e_webhooks_${randomBytes(5).toString('hex')}`;
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(dbName)}`);
    await admin.end();
    const url = new URL(ADMIN_URL);
    url.pathname = `/${dbName}`;
    database = await createDatabase({ url: url.toString(), poolSize: 2, dataDir: '.data', embeddedPort: 54329 });
    await migrateToLatest(database.db);
    redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
    jobs = new JobService(redis, `test-${randomBytes(6).toString('hex')}`);
    sb = await startSandbox({
      port: 0,
      strava: { ...STRAVA_APP, webhookRetryDelayMs: 10 },
      dropbox: { ...DROPBOX_APP, webhookDebounceMs: 10, webhookRetryDelayMs: 10 },
    });

    const config = loadConfig({
      STRAVA_WEBHOOK_VERIFY_TOKEN: VERIFY_TOKEN,
      DROPBOX_CLIENT_SECRET: DROPBOX_APP.clientSecret,
      STRAVA_BASE_URL: sb.urls.strava,
    });
    const logger = createLogger({ level: 'silent' });
    const moduleRef = await Test.createTestingModule({
      imports: [WebhooksModule.forRoot({ config, logger, jobs, database })],
      providers: [
        { provide: ROOT_LOGGER, useValue: logger },
        { provide: APP_FILTER, useClass: GlobalExceptionFilter },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ rawBody: true, logger: false });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await sb?.close();
    for (const name of Object.values(QueueName)) await jobs?.queue(name).obliterate({ force: true });
    await jobs?.close();
    await redis?.close();
    await database?.close();
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(dbName)} WITH (FORCE)`);
    await admin.end();
  });

  async function connect(service: string, externalUserId: string) {
    const user = await new UserRepository(database.db).create();
    const connection = await new ConnectionRepository(database.db, null).connect(user.id, { service, externalUserId });
    return { user, connection };
  }

  const connectionRow = (id: string) =>
    database.db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const syncJob = (userId: string) =>
    jobs.queue(QueueName.Sync).getJob(jobIdFor({ name: JobName.SyncUser, data: { userId, trigger: 'webhook' } }));

  it('should pass Strava’s subscription handshake, queue a sync for a new activity and honour a revocation', async () => {
    const created = (await control(sb, 'POST', '/strava/athletes', { firstname: 'Hook', token: {} })) as {
      athlete: { id: number };
    };
    const athleteId = String(created.athlete.id);
    const { user, connection } = await connect('strava', athleteId);
    const subscribe = (verifyToken: string) =>
      fetch(`${sb.urls.strava}/api/v3/push_subscriptions`, {
        method: 'POST',
        body: new URLSearchParams({
          client_id: STRAVA_APP.clientId,
          client_secret: STRAVA_APP.clientSecret,
          callback_url: `${baseUrl}/webhooks/strava`,
          verify_token: verifyToken,
        }),
      });

    expect((await subscribe('not-our-token')).status).toBeGreaterThanOrEqual(400);
    expect((await subscribe(VERIFY_TOKEN)).status).toBe(201);

    await control(sb, 'POST', '/strava/activities', {
      athlete: created.athlete.id,
      fixture: 'fit/garmin-fenix-5-run.fit',
    });
    await control(sb, 'POST', '/settle');
    await waitFor('the activity event', async () => (await syncJob(user.id)) !== undefined);
    expect((await syncJob(user.id))?.data).toEqual({ userId: user.id, trigger: 'webhook' });
    expect((await connectionRow(connection.id)).trigger_partial_sync).toBe(true);

    await control(sb, 'POST', '/strava/revoke', { athlete: created.athlete.id, notify: true });
    await control(sb, 'POST', '/settle');
    await waitFor('the deauthorization event', async () => (await connectionRow(connection.id)).status !== 'ok');
    expect((await connectionRow(connection.id)).status).toBe('needs_reauth');
  });

  it('should pass Dropbox’s challenge and accept its signed change notifications', async () => {
    const account = (await control(sb, 'POST', '/dropbox/accounts', { token: { offline: true } })) as {
      accountId?: string;
      account_id?: string;
    };
    const accountId = account.accountId ?? account.account_id ?? '';
    const { user, connection } = await connect('dropbox', accountId);

    await control(sb, 'PUT', '/dropbox/webhook', { url: `${baseUrl}/webhooks/dropbox` });
    await control(sb, 'POST', '/dropbox/files', {
      account: accountId,
      path: '/Apps/tributary/run.gpx',
      spec: { start: '2026-03-01T08:00:00Z', durationSeconds: 600 },
    });
    // The notification is debounced after the write, so settle may come back before it was even sent.
    await waitFor('the Dropbox notification', async () => {
      await control(sb, 'POST', '/settle');
      const deliveries = (await control(sb, 'GET', '/deliveries')) as Delivery[];
      return deliveries.some((d) => d.service === 'dropbox' && d.kind === 'notification' && d.delivered);
    });

    expect((await connectionRow(connection.id)).trigger_partial_sync).toBe(true);
    expect((await syncJob(user.id))?.data).toEqual({ userId: user.id, trigger: 'webhook' });
    const deliveries = (await control(sb, 'GET', '/deliveries')) as Delivery[];
    expect(deliveries.filter((d) => d.service === 'dropbox').map((d) => [d.kind, d.attempts[0]?.status])).toEqual([
      ['verification', 200],
      ['notification', 200],
    ]);
  });
});
