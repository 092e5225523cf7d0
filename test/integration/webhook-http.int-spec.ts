import { createHmac, randomBytes, randomInt } from 'node:crypto';
import type { Server } from 'node:http';
import { type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { connectRedis, createLogger, type RedisConnection } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import { type Database } from '@tributary/db';
import { JobName, JobService, QueueName, SyncPriority, jobIdFor } from '@tributary/queue';
import { GlobalExceptionFilter } from '../../apps/web/src/middleware/global-exception.filter';
import { SyncNowModule } from '../../apps/web/src/sync/sync-now.module';
import { type RateWindow } from '../../apps/web/src/webhooks/source-rate-limiter.util';
import { WebhooksModule } from '../../apps/web/src/webhooks/webhooks.module';
import { ROOT_LOGGER } from '../../apps/web/src/web.tokens';
import { newConnection, newUser } from './support/factories';
import { createTestContext, type TestContext } from './support/test-db';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const VERIFY_TOKEN = 'verify-me-please';
const DROPBOX_SECRET = 'dropbox-app-secret';
const SUBSCRIPTION_ID = '4242';
const DAY = 24 * 60 * 60_000;

describe('webhooks and Sync now over HTTP', () => {
  let ctx: TestContext;
  let redis: RedisConnection;
  let jobs: JobService;
  let app: INestApplication;
  const http = (): Server => app.getHttpServer() as Server;

  async function buildApp(rateWindow?: RateWindow): Promise<INestApplication> {
    const config = loadConfig({
      STRAVA_WEBHOOK_VERIFY_TOKEN: VERIFY_TOKEN,
      STRAVA_WEBHOOK_SUBSCRIPTION_ID: SUBSCRIPTION_ID,
      DROPBOX_CLIENT_SECRET: DROPBOX_SECRET,
      SYNC_WEBHOOK_DEBOUNCE_SECONDS: '30',
      SYNC_NOW_COOLDOWN_SECONDS: '30',
    });
    const logger = createLogger({ level: 'silent' });
    const database: Database = {
      db: ctx.db,
      kind: 'server',
      ping: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const moduleRef = await Test.createTestingModule({
      imports: [
        WebhooksModule.forRoot({ config, logger, jobs, database, rateWindow }),
        SyncNowModule.forRoot({ config, jobs, database }),
      ],
      providers: [
        { provide: ROOT_LOGGER, useValue: logger },
        { provide: APP_FILTER, useClass: GlobalExceptionFilter },
      ],
    }).compile();
    const nest = moduleRef.createNestApplication({ rawBody: true, logger: false });
    // Stands in for the site's session middleware, which sets req.user = { id } for a signed-in browser.
    nest.use((req: Request, _res: Response, next: NextFunction) => {
      const id = req.header('x-test-user');
      if (id !== undefined) req.user = { id };
      next();
    });
    await nest.init();
    return nest;
  }

  beforeAll(async () => {
    ctx = createTestContext();
    redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
  });

  afterAll(async () => {
    await redis.close();
    await ctx.close();
  });

  beforeEach(async () => {
    jobs = new JobService(redis, `test-${randomBytes(6).toString('hex')}`);
    app = await buildApp();
  });

  afterEach(async () => {
    await app.close();
    for (const name of Object.values(QueueName)) await jobs.queue(name).obliterate({ force: true });
    await jobs.close();
  });

  const athleteId = (): string => String(randomInt(1_000_000, 2_000_000_000));

  async function connected(service: string, externalUserId: string) {
    const user = await newUser(ctx.db, { last_sync_at: new Date() });
    const connection = await newConnection(ctx.db, user.id, { service, externalUserId });
    return { user, connection };
  }

  async function connectionRow(id: string) {
    return ctx.db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }

  async function syncJobs() {
    return (await jobs.queue(QueueName.Sync).getJobs(['waiting', 'prioritized', 'delayed'])).filter(
      (j) => j.name === (JobName.SyncUser as string),
    );
  }

  function stravaEvent(ownerId: string, overrides: Record<string, unknown> = {}) {
    return {
      aspect_type: 'create',
      event_time: 1_700_000_000,
      object_id: randomInt(1_000_000, 2_000_000_000),
      object_type: 'activity',
      owner_id: Number(ownerId),
      subscription_id: Number(SUBSCRIPTION_ID),
      updates: {},
      ...overrides,
    };
  }

  function signed(body: string, secret = DROPBOX_SECRET): string {
    return createHmac('sha256', secret).update(body).digest('hex');
  }

  describe('Strava', () => {
    it('should echo the challenge of a subscription handshake with the right verify token', async () => {
      const res = await request(http())
        .get('/webhooks/strava')
        .query({ 'hub.mode': 'subscribe', 'hub.challenge': 'chal-123', 'hub.verify_token': VERIFY_TOKEN })
        .expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(res.text)).toEqual({ 'hub.challenge': 'chal-123' });
    });

    it('should refuse a handshake with a wrong or missing verify token', async () => {
      await request(http())
        .get('/webhooks/strava')
        .query({ 'hub.mode': 'subscribe', 'hub.challenge': 'chal-123', 'hub.verify_token': 'guess' })
        .expect(403);
      await request(http())
        .get('/webhooks/strava')
        .query({ 'hub.mode': 'subscribe', 'hub.challenge': 'chal-123' })
        .expect(403);
    });

    it('should turn a burst of activity events into exactly one debounced sync and one follow-up per activity', async () => {
      const owner = athleteId();
      const { user, connection } = await connected('strava', owner);
      const events = Array.from({ length: 5 }, () => stravaEvent(owner));

      for (const event of events) {
        const res = await request(http()).post('/webhooks/strava').send(event).expect(200);
        expect(res.body).toEqual({ matched: 1, ignored: 0 });
      }

      const sync = await syncJobs();
      expect(sync).toHaveLength(1);
      expect(sync[0]?.data).toEqual({ userId: user.id, trigger: 'webhook' });
      expect(sync[0]?.priority).toBe(SyncPriority.Webhook);
      expect(await sync[0]?.getState()).toBe('delayed');
      expect(sync[0]?.opts.delay).toBe(30_000);
      const followUps = (await jobs.queue(QueueName.Sync).getJobs(['delayed'])).filter(
        (j) => j.name === (JobName.WebhookEvent as string),
      );
      expect(followUps.map((j) => (j.data as { eventId: string }).eventId).sort()).toEqual(
        events.map((e) => String(e.object_id)).sort(),
      );
      expect((await connectionRow(connection.id)).trigger_partial_sync).toBe(true);
    });

    it('should mark the connection for re-authorization when the athlete revokes access', async () => {
      const owner = athleteId();
      const { user, connection } = await connected('strava', owner);

      await request(http())
        .post('/webhooks/strava')
        .send(
          stravaEvent(owner, {
            object_type: 'athlete',
            object_id: Number(owner),
            aspect_type: 'update',
            updates: { authorized: 'false' },
          }),
        )
        .expect(200);

      expect((await connectionRow(connection.id)).status).toBe('needs_reauth');
      const errors = await ctx.repos.syncErrors.listOpen(user.id, { connectionId: connection.id });
      expect(errors).toEqual([
        expect.objectContaining({ code: 'auth', blocking: true, intervention: 'reauth', scope: 'connection' }),
      ]);
      expect(await syncJobs()).toHaveLength(0);
    });

    it('should refuse events of another subscription and acknowledge events for unknown athletes', async () => {
      const owner = athleteId();
      await connected('strava', owner);
      await request(http())
        .post('/webhooks/strava')
        .send(stravaEvent(owner, { subscription_id: 999 }))
        .expect(403);
      const res = await request(http()).post('/webhooks/strava').send(stravaEvent(athleteId())).expect(200);
      expect(res.body).toEqual({ matched: 0, ignored: 1 });
      expect(await syncJobs()).toHaveLength(0);
    });
  });

  describe('Dropbox', () => {
    it('should echo the challenge as plain text', async () => {
      const res = await request(http()).get('/webhooks/dropbox').query({ challenge: 'dbx-chal' }).expect(200);
      expect(res.text).toBe('dbx-chal');
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });

    it('should trigger the listed accounts when the signature matches the raw body', async () => {
      const account = `dbid:${randomBytes(8).toString('hex')}`;
      const { user, connection } = await connected('dropbox', account);
      // Spacing a JSON re-serialisation would lose: the signature covers the exact bytes.
      const body = `{ "list_folder": { "accounts": ["${account}", "dbid:nobody"] },  "delta": { "users": [1] } }`;

      const res = await request(http())
        .post('/webhooks/dropbox')
        .set('Content-Type', 'application/json')
        .set('X-Dropbox-Signature', signed(body))
        .send(body)
        .expect(200);

      expect(res.body).toEqual({ matched: 1, ignored: 1 });
      expect((await connectionRow(connection.id)).trigger_partial_sync).toBe(true);
      expect((await syncJobs()).map((j): unknown => j.data)).toEqual([{ userId: user.id, trigger: 'webhook' }]);
    });

    it.each([
      ['a wrong', (body: string) => signed(body, 'not-the-secret')],
      ['a missing', () => undefined],
      ['a malformed', () => 'zz-not-hex'],
    ])('should refuse a notification with %s signature and touch nothing', async (_label, signature) => {
      const account = `dbid:${randomBytes(8).toString('hex')}`;
      const { connection } = await connected('dropbox', account);
      const body = JSON.stringify({ list_folder: { accounts: [account] } });
      const req = request(http()).post('/webhooks/dropbox').set('Content-Type', 'application/json');
      const sig = signature(body);
      if (sig !== undefined) void req.set('X-Dropbox-Signature', sig);

      const res = await req.send(body).expect(403);

      expect(res.body).toMatchObject({ statusCode: 403, error: 'forbidden' });
      expect((await connectionRow(connection.id)).trigger_partial_sync).toBe(false);
      expect(await syncJobs()).toHaveLength(0);
    });
  });

  it('should answer 404 for a service without webhooks', async () => {
    await request(http()).get('/webhooks/garmin').query({ challenge: 'x' }).expect(404);
    await request(http()).post('/webhooks/nope').send({}).expect(404);
  });

  it('should rate-limit each source with 429 and Retry-After', async () => {
    await app.close();
    app = await buildApp({ max: 2, windowMs: 60_000 });
    const owner = athleteId();
    await request(http()).post('/webhooks/strava').send(stravaEvent(owner)).expect(200);
    await request(http()).post('/webhooks/strava').send(stravaEvent(owner)).expect(200);
    const res = await request(http()).post('/webhooks/strava').send(stravaEvent(owner)).expect(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  describe('POST /api/sync/now', () => {
    it('should answer 401 when nobody is signed in', async () => {
      await request(http()).post('/api/sync/now').expect(401);
      expect(await syncJobs()).toHaveLength(0);
    });

    it('should queue a manual sync at the highest priority, then refuse a second press with 429 and Retry-After', async () => {
      const user = await newUser(ctx.db, { last_sync_at: new Date(Date.now() - 60 * 60_000) });

      const res = await request(http()).post('/api/sync/now').set('x-test-user', user.id).expect(202);

      expect(res.body).toEqual({ runId: expect.any(String) as unknown, exhaustive: false, alreadyQueued: false });
      const job = await jobs
        .queue(QueueName.Sync)
        .getJob(jobIdFor({ name: JobName.SyncUser, data: { userId: user.id, trigger: 'manual' } }));
      expect(job?.data).toEqual({ userId: user.id, trigger: 'manual', exhaustive: false });
      expect(job?.priority).toBe(SyncPriority.Manual);
      expect(await ctx.repos.syncRuns.findActive(user.id)).toMatchObject({ status: 'queued', trigger: 'manual' });

      const again = await request(http()).post('/api/sync/now').set('x-test-user', user.id).expect(429);
      expect(again.body).toMatchObject({ error: 'rate_limited' });
      const retryAfter = Number(again.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(25);
      expect(retryAfter).toBeLessThanOrEqual(30);
      expect(await syncJobs()).toHaveLength(1);
    });

    it('should start a sync a webhook is still debouncing at once and first in line', async () => {
      const owner = athleteId();
      const { user } = await connected('strava', owner);
      await request(http()).post('/webhooks/strava').send(stravaEvent(owner)).expect(200);
      await ctx.db
        .updateTable('users')
        .set({ last_sync_at: new Date(Date.now() - 60 * 60_000) })
        .where('id', '=', user.id)
        .execute();

      await request(http()).post('/api/sync/now').set('x-test-user', user.id).expect(202);

      const [job, ...others] = await syncJobs();
      expect(others).toEqual([]);
      expect(job?.priority).toBe(SyncPriority.Manual);
      expect(await job?.getState()).not.toBe('delayed');
    });

    it('should count the cooldown from the end of the last sync', async () => {
      const user = await newUser(ctx.db, { last_sync_at: new Date(Date.now() - 10_000) });
      const res = await request(http()).post('/api/sync/now').set('x-test-user', user.id).expect(429);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(20);
    });

    it('should make the sync exhaustive when the last one is more than 14 days old', async () => {
      const user = await newUser(ctx.db, { last_sync_at: new Date(Date.now() - 15 * DAY) });
      const res = await request(http()).post('/api/sync/now').set('x-test-user', user.id).expect(202);
      expect(res.body).toMatchObject({ exhaustive: true });
      const row = await ctx.repos.users.getById(user.id);
      expect(row.next_sync_exhaustive).toBe(true);
    });
  });
});
