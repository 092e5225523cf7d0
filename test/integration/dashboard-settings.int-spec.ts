import type { Server } from 'node:http';
import { type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { createLogger, type Keyring } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import { ConnectorRegistry } from '@tributary/connectors';
import { ActivityFeedRepository, type Database, EmailTakenError, UserLoginRepository } from '@tributary/db';
import { DashboardModule } from '../../apps/web/src/dashboard/dashboard.module';
import { GlobalExceptionFilter } from '../../apps/web/src/middleware/global-exception.filter';
import { SettingsModule } from '../../apps/web/src/settings/settings.module';
import { ROOT_LOGGER } from '../../apps/web/src/web.tokens';
import { newActivityRecord, newConnection, newUser, unique } from './support/factories';
import { createTestContext, type TestContext } from './support/test-db';

describe('dashboard and settings data stay with their user', () => {
  let ctx: TestContext;
  let feed: ActivityFeedRepository;
  let logins: UserLoginRepository;

  beforeAll(() => {
    ctx = createTestContext();
    feed = new ActivityFeedRepository(ctx.db);
    logins = new UserLoginRepository(ctx.db);
  });
  afterAll(() => ctx.close());

  describe(ActivityFeedRepository.name, () => {
    it("should list a user's newest activities with where each went, and nothing of another user", async () => {
      const a = await newUser(ctx.db);
      const b = await newUser(ctx.db);
      const strava = await newConnection(ctx.db, a.id, { service: 'strava' });
      const dropbox = await newConnection(ctx.db, a.id, { service: 'dropbox' });
      const old = await newActivityRecord(ctx.db, a.id, { startAt: new Date('2025-01-01T08:00:00Z'), name: 'Old' });
      const recent = await newActivityRecord(ctx.db, a.id, { startAt: new Date('2025-06-01T08:00:00Z'), name: 'New' });
      await ctx.repos.activities.setPresence(a.id, recent.id, strava.id, { state: 'present' });
      await ctx.repos.activities.setPresence(a.id, recent.id, dropbox.id, {
        state: 'excluded',
        reasonCode: 'flow',
      });

      const entries = await feed.recent(a.id, 10);
      expect(entries.map((e) => e.name)).toEqual(['New', 'Old']);
      expect(entries[0]?.presence).toEqual([
        { connectionId: dropbox.id, service: 'dropbox', state: 'excluded', reasonCode: 'flow' },
        { connectionId: strava.id, service: 'strava', state: 'present', reasonCode: null },
      ]);
      expect(entries[1]?.id).toBe(old.id);
      expect(await feed.recent(b.id, 10)).toEqual([]);
      expect(await feed.recent(a.id, 1)).toHaveLength(1);
    });
  });

  describe(UserLoginRepository.name, () => {
    it('should find a login by email case-insensitively, only once a password is set, and only its own', async () => {
      const a = await newUser(ctx.db, { email: null });
      const b = await newUser(ctx.db);
      const email = `${unique('Login')}@Example.test`;
      expect(await logins.findByEmail(email)).toBeUndefined();
      await logins.set(a.id, email, 'scrypt$hash');
      expect(await logins.findByEmail(email.toLowerCase())).toEqual({
        userId: a.id,
        email,
        passwordHash: 'scrypt$hash',
      });
      expect((await logins.get(b.id)).passwordHash).toBeNull();
      // A user with an email but no password cannot be logged into.
      expect(await logins.findByEmail(b.email ?? '')).toBeUndefined();
      await expect(logins.set(b.id, email.toUpperCase(), 'other')).rejects.toBeInstanceOf(EmailTakenError);
      expect((await logins.get(a.id)).passwordHash).toBe('scrypt$hash');
    });
  });

  describe('over HTTP', () => {
    let app: INestApplication;
    const http = (): Server => app.getHttpServer() as Server;

    beforeAll(async () => {
      const config = loadConfig({});
      const logger = createLogger({ level: 'silent' });
      const database: Database = {
        db: ctx.db,
        kind: 'server',
        ping: () => Promise.resolve(),
        close: () => Promise.resolve(),
      };
      const connectors = new ConnectorRegistry([]);
      const keyring: Keyring = ctx.keyring;
      const moduleRef = await Test.createTestingModule({
        imports: [
          DashboardModule.forRoot({ config, logger, database, connectors }),
          SettingsModule.forRoot({ config, logger, database, connectors, keyring }),
        ],
        providers: [
          { provide: ROOT_LOGGER, useValue: logger },
          { provide: APP_FILTER, useClass: GlobalExceptionFilter },
        ],
      }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      // Stands in for the site's session middleware (CSRF is covered by the browser tests against the full app).
      app.use((req: Request, _res: Response, next: NextFunction) => {
        const id = req.header('x-test-user');
        if (id !== undefined) {
          req.user = { id };
          const now = new Date();
          req.siteSession = {
            id: 's',
            userId: id,
            csrfSecret: 'c',
            createdAt: now,
            lastSeenAt: now,
            expiresAt: now,
          };
        }
        next();
      });
      await app.init();
    });
    afterAll(() => app.close());

    it("should not let another user clear someone's blocking error", async () => {
      const a = await newUser(ctx.db);
      const b = await newUser(ctx.db);
      const conn = await newConnection(ctx.db, a.id);
      const error = await ctx.repos.syncErrors.record(a.id, {
        connectionId: conn.id,
        scope: 'connection',
        code: 'full',
        clearGroup: 'account_full',
        intervention: 'account_full',
        message: 'Dropbox is full',
        blocking: true,
      });
      const refused = await request(http())
        .post(`/dashboard/errors/${error.id}/resolve`)
        .set('x-test-user', b.id)
        .expect(303);
      expect(refused.headers.location).toBe('/dashboard?notice=not_found');
      expect((await ctx.repos.syncErrors.listOpen(a.id)).map((e) => e.id)).toEqual([error.id]);

      const page = await request(http()).get('/dashboard').set('x-test-user', a.id).expect(200);
      expect(page.text).toContain('Dropbox is full');
      expect(page.text).toContain('I&#39;ve made space');
      const other = await request(http()).get('/dashboard').set('x-test-user', b.id).expect(200);
      expect(other.text).not.toContain('Dropbox is full');

      await request(http()).post(`/dashboard/errors/${error.id}/resolve`).set('x-test-user', a.id).expect(303);
      expect(await ctx.repos.syncErrors.listOpen(a.id)).toEqual([]);
      // No queues in this app: the fix schedules the next sync instead.
      expect((await ctx.repos.users.getById(a.id)).next_sync_at).not.toBeNull();
    });

    it("should answer 404 for another user's connection settings and change nothing", async () => {
      const a = await newUser(ctx.db);
      const b = await newUser(ctx.db);
      const conn = await newConnection(ctx.db, a.id, { config: { syncPrivate: true } });
      await request(http()).get(`/connections/${conn.id}/settings`).set('x-test-user', b.id).expect(404);
      await request(http())
        .post(`/connections/${conn.id}/settings`)
        .set('x-test-user', b.id)
        .type('form')
        .send({ syncPrivate: '' })
        .expect(404);
      expect((await ctx.repos.connections.getForUser(a.id, conn.id)).config).toEqual({ syncPrivate: true });
      await request(http()).get(`/connections/${conn.id}/settings`).set('x-test-user', a.id).expect(200);
      await request(http()).get(`/connections/not-a-uuid/settings`).set('x-test-user', a.id).expect(404);
    });

    it("should show and change only the signed-in user's account settings and sync status", async () => {
      const a = await newUser(ctx.db);
      const b = await newUser(ctx.db);
      await ctx.repos.syncRuns.enqueue(a.id, { trigger: 'manual' });
      const form = {
        sync: 'manual',
        uploadDelayMinutes: '15',
        skipBefore: '2024-03-01',
        timezone: 'Europe/Berlin',
        notifyEnabled: 'on',
        notifyEmail: '',
        notifyWebhookUrl: '',
      };
      await request(http()).post('/settings').set('x-test-user', b.id).type('form').send(form).expect(303);
      const settingsA = await ctx.repos.users.getSettings(a.id);
      expect(settingsA).toMatchObject({ autoSync: true, uploadDelaySeconds: 0, timezoneFallback: null });
      expect(await ctx.repos.users.getSettings(b.id)).toMatchObject({
        autoSync: false,
        uploadDelaySeconds: 900,
        skipBefore: '2024-03-01T00:00:00.000Z',
        timezoneFallback: 'Europe/Berlin',
      });

      const bad = await request(http())
        .post('/settings')
        .set('x-test-user', b.id)
        .type('form')
        .send({ ...form, timezone: 'Mars/Olympus', uploadDelayMinutes: '20' })
        .expect(400);
      expect(bad.text).toContain('Mars/Olympus');
      expect((await ctx.repos.users.getSettings(b.id)).uploadDelaySeconds).toBe(900);

      const statusA = await request(http()).get('/api/sync/status').set('x-test-user', a.id).expect(200);
      expect(statusA.body).toMatchObject({ state: 'queued', active: true, label: 'queued' });
      const statusB = await request(http()).get('/api/sync/status').set('x-test-user', b.id).expect(200);
      expect(statusB.body).toMatchObject({ state: 'idle', active: false, runId: null });
      await request(http()).get('/api/sync/status').expect(401);
    });
  });
});
