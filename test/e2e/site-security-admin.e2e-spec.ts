import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sql } from 'kysely';
import { chromium } from 'playwright-core';
import request from 'supertest';
import { JobName, QueueName, SyncPriority } from '@tributary/queue';
import { type SiteHarness, httpServer, startSiteHarness } from './site-harness.util';
import { type SignedIn, registeredRoutes, signUpWithStrava } from './site-security.util';

jest.setTimeout(60_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS = path.resolve(__dirname, '../../test-results');

/** What the hub answers for a URL no route serves; admin pages must answer non-admins exactly like this. */
async function unknownRouteAnswer(h: SiteHarness): Promise<{ status: number; error: unknown }> {
  const res = await request(httpServer(h)).get('/no-such-page-anywhere').set('Accept', 'text/html');
  return { status: res.status, error: (res.body as { error?: unknown }).error };
}

describe('admin pages and Bull Board (e2e)', () => {
  let h: SiteHarness;
  let admin: SignedIn;
  let alice: SignedIn;
  let mallory: SignedIn;

  beforeAll(async () => {
    h = await startSiteHarness({ queues: true });
    admin = await signUpWithStrava(h, 'Ada');
    alice = await signUpWithStrava(h, 'Alice');
    mallory = await signUpWithStrava(h, 'Mallory');
    await h.database.db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.userId).execute();
    await h.database.db
      .updateTable('users')
      .set({ email: 'alice.sync@example.test' })
      .where('id', '=', alice.userId)
      .execute();
  }, 90_000);
  afterAll(() => h?.close());

  const auditOf = (action: string, target?: string) =>
    h.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', action)
      .$if(target !== undefined, (q) => q.where('target_user_id', '=', target ?? ''))
      .orderBy('id', 'desc')
      .execute();

  describe('refused to everyone but administrators', () => {
    const pages = [
      '/admin',
      '/admin/users',
      '/admin/users?q=alice',
      '/admin/audit',
      '/admin/queues/',
      '/admin/queues/api/queues',
    ];

    it('should answer anonymous visitors and signed-in users exactly like an unknown URL', async () => {
      const unknown = await unknownRouteAnswer(h);
      expect(unknown.status).toBe(404);
      for (const page of [...pages, `/admin/users/${alice.userId}`]) {
        for (const [who, agent] of [
          ['anonymous', request.agent(httpServer(h))],
          ['mallory', mallory.agent],
        ] as const) {
          const res = await agent.get(page).set('Accept', 'text/html');
          expect({ who, page, status: res.status, error: (res.body as { error?: unknown }).error }).toEqual({
            who,
            page,
            ...unknown,
          });
          expect(res.text).not.toContain('Diagnostics');
          expect(res.text).not.toContain(alice.displayName);
        }
      }
      expect(await auditOf('admin.user.view', alice.userId)).toEqual([]);
    });

    it('should refuse the admin API with 403 and admin actions with a 404, changing nothing', async () => {
      await request(httpServer(h)).get('/api/admin/health').expect(403);
      const res = await mallory.agent.get('/api/admin/health').set('Accept', 'application/json').expect(403);
      expect(res.body).toMatchObject({ error: 'forbidden' });
      for (const action of ['requeue', 'unlock']) {
        await mallory.agent
          .post(`/admin/users/${alice.userId}/${action}`)
          .type('form')
          .send({ _csrf: mallory.csrf })
          .expect(404);
      }
      const runs = await h.database.db
        .selectFrom('sync_runs')
        .selectAll()
        .where('user_id', '=', alice.userId)
        .execute();
      expect(runs).toEqual([]);
      expect(await auditOf('admin.user.requeue')).toEqual([]);
    });

    it('should list every admin route among the routes the guard covers', () => {
      const adminRoutes = registeredRoutes(h.app).filter(
        (r) => r.path.startsWith('/admin') || r.path.startsWith('/api/admin'),
      );
      // If a new admin route appears, add it to the checks above.
      expect(adminRoutes.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
        'GET /admin',
        'GET /admin/audit',
        'GET /admin/users',
        'GET /admin/users/:id',
        'GET /api/admin/health',
        'POST /admin/users/:id/requeue',
        'POST /admin/users/:id/unlock',
      ]);
    });

    it('should stop serving a demoted administrator at once', async () => {
      const temp = await signUpWithStrava(h, 'Temp');
      await h.database.db.updateTable('users').set({ role: 'admin' }).where('id', '=', temp.userId).execute();
      await temp.agent.get('/admin').expect(200);
      await h.database.db.updateTable('users').set({ role: 'user' }).where('id', '=', temp.userId).execute();
      await temp.agent.get('/admin').expect(404);
    });
  });

  describe('for an administrator', () => {
    it('should show queues, workers, runs, error groups and the duration graph, with the admin navigation', async () => {
      const conn = alice.stravaConnectionId;
      await h.database.db
        .insertInto('sync_errors')
        .values({
          user_id: alice.userId,
          connection_id: conn,
          scope: 'connection',
          code: 'rate_limited_test',
          message: 'Strava said 429 <script>',
          blocking: true,
          count: 3,
        })
        .execute();
      const started = new Date(Date.now() - 30 * 60_000);
      await h.database.db
        .insertInto('sync_runs')
        .values({
          user_id: mallory.userId,
          trigger: 'schedule',
          status: 'succeeded',
          queued_at: started,
          started_at: started,
          finished_at: new Date(started.getTime() + 42_000),
        })
        .execute();

      const res = await admin.agent.get('/admin').expect(200);
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.text).toContain('<h1>Diagnostics</h1>');
      expect(res.text).toContain('href="/admin"');
      for (const queue of Object.values(QueueName)) expect(res.text).toContain(`data-queue="${queue}"`);
      expect(res.text).toContain('rate_limited_test');
      expect(res.text).toContain('Strava said 429 &lt;script&gt;');
      expect(res.text).not.toContain('Strava said 429 <script>');
      expect(res.text).toMatch(/data-duration-chart="1"/);
      expect(res.text).toContain('<polyline class="p50"');
      expect(res.text).toContain('42 s');

      const week = await admin.agent.get('/admin?window=7d').expect(200);
      expect(week.text).toContain('<strong>7d</strong>');

      const health = await admin.agent.get('/api/admin/health').expect(200);
      const body = health.body as { queues: { name: string; waiting: number }[]; runs: { running: number } };
      expect(body.queues.map((q) => q.name).sort()).toEqual(Object.values(QueueName).sort());
      expect(body.runs).toMatchObject({ running: expect.any(Number) as number });
    });

    it('should find users by email, user id and Strava athlete id, and audit each search', async () => {
      for (const q of ['ALICE.sync', alice.userId, alice.athleteId]) {
        const res = await admin.agent.get(`/admin/users?q=${encodeURIComponent(q)}`).expect(200);
        expect(res.text).toContain('data-search-results="1"');
        expect(res.text).toContain(`href="/admin/users/${alice.userId}"`);
      }
      const none = await admin.agent.get('/admin/users?q=nobody%40nowhere').expect(200);
      expect(none.text).toContain('data-search-results="0"');
      const searches = await auditOf('admin.users.search');
      expect(searches).toHaveLength(4);
      expect(searches[3]).toMatchObject({
        actor_user_id: admin.userId,
        details: { query: 'ALICE.sync', hits: [alice.userId] },
      });
    });

    it("should show a user's connections, runs, errors and lease, and audit the view", async () => {
      const res = await admin.agent.get(`/admin/users/${alice.userId}`).expect(200);
      expect(res.text).toContain('alice.sync@example.test');
      expect(res.text).toContain('data-connection="strava"');
      expect(res.text).toContain('rate_limited_test');
      expect(res.text).toContain('data-lease="free"');
      const [view] = await auditOf('admin.user.view', alice.userId);
      expect(view).toMatchObject({ actor_user_id: admin.userId });
      await admin.agent.get('/admin/users/00000000-0000-4000-8000-000000000000').expect(404);
      await admin.agent.get('/admin/users/not-a-uuid').expect(404);
    });

    it('should requeue an exhaustive sync at the highest priority, refuse it without the CSRF token, and audit it', async () => {
      await admin.agent.post(`/admin/users/${alice.userId}/requeue`).type('form').send({}).expect(403);
      expect(await auditOf('admin.user.requeue')).toEqual([]);

      const res = await admin.agent
        .post(`/admin/users/${alice.userId}/requeue`)
        .type('form')
        .send({ _csrf: admin.csrf })
        .expect(303);
      expect(res.headers.location).toBe(`/admin/users/${alice.userId}?notice=requeued`);
      const run = await h.database.db
        .selectFrom('sync_runs')
        .selectAll()
        .where('user_id', '=', alice.userId)
        .executeTakeFirstOrThrow();
      expect(run).toMatchObject({ status: 'queued', trigger: 'admin', exhaustive: true });
      const user = await h.database.db
        .selectFrom('users')
        .selectAll()
        .where('id', '=', alice.userId)
        .executeTakeFirstOrThrow();
      expect(user.next_sync_exhaustive).toBe(true);
      const job = await h.jobs?.queue(QueueName.Sync).getJob(`${JobName.SyncUser}-${alice.userId}`);
      expect(job?.priority).toBe(SyncPriority.Manual);
      expect(job?.data).toMatchObject({ userId: alice.userId, exhaustive: true });
      const [entry] = await auditOf('admin.user.requeue', alice.userId);
      expect(entry).toMatchObject({
        actor_user_id: admin.userId,
        details: { runId: run.id, joinedExisting: false, queued: true },
      });

      const again = await admin.agent
        .post(`/admin/users/${alice.userId}/requeue`)
        .type('form')
        .send({ _csrf: admin.csrf })
        .expect(303);
      expect(again.headers.location).toContain('notice=joined');
      const page = await admin.agent.get(again.headers.location as string).expect(200);
      expect(page.text).toContain('made exhaustive and moved to the front');
    });

    it('should unlock a stuck user: fail the running run, release the lease, and audit it', async () => {
      const db = h.database.db;
      await db.deleteFrom('sync_runs').where('user_id', '=', alice.userId).execute();
      const run = await db
        .insertInto('sync_runs')
        .values({
          user_id: alice.userId,
          trigger: 'schedule',
          status: 'running',
          worker_id: 'dead-worker:job-1',
          started_at: sql<Date>`now() - interval '1 hour'`,
          heartbeat_at: sql<Date>`now() - interval '50 minutes'`,
          phase: 'listing strava',
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await db
        .updateTable('users')
        .set({ lease_owner: 'dead-worker:job-1', lease_expires_at: sql<Date>`now() + interval '1 minute'` })
        .where('id', '=', alice.userId)
        .execute();
      const before = await admin.agent.get(`/admin/users/${alice.userId}`).expect(200);
      expect(before.text).toContain('data-lease="held"');
      expect(before.text).toContain('dead-worker:job-1');

      const res = await admin.agent
        .post(`/admin/users/${alice.userId}/unlock`)
        .type('form')
        .send({ _csrf: admin.csrf })
        .expect(303);
      expect(res.headers.location).toContain('notice=unlocked');
      const after = await db.selectFrom('sync_runs').selectAll().where('id', '=', run.id).executeTakeFirstOrThrow();
      expect(after.status).toBe('failed');
      expect(after.errors).toEqual([{ code: 'admin_unlocked', message: 'stopped by an administrator' }]);
      const user = await db.selectFrom('users').selectAll().where('id', '=', alice.userId).executeTakeFirstOrThrow();
      expect(user).toMatchObject({ lease_owner: null, lease_expires_at: null });
      const [entry] = await auditOf('admin.user.unlock', alice.userId);
      expect(entry).toMatchObject({
        actor_user_id: admin.userId,
        details: { leaseReleased: true, previousOwner: 'dead-worker:job-1', failedRunId: run.id },
      });

      const nothing = await admin.agent
        .post(`/admin/users/${alice.userId}/unlock`)
        .type('form')
        .send({ _csrf: admin.csrf })
        .expect(303);
      expect(nothing.headers.location).toContain('notice=nothing-to-unlock');
    });

    it('should show the audit log, filtered by action', async () => {
      const res = await admin.agent.get('/admin/audit').expect(200);
      expect(res.text).toContain('data-audit-action="admin.user.unlock"');
      expect(res.text).toContain('data-audit-action="admin.users.search"');
      const filtered = await admin.agent.get('/admin/audit?action=admin.user.requeue').expect(200);
      expect(filtered.text).toContain('data-audit-action="admin.user.requeue"');
      expect(filtered.text).not.toContain('data-audit-action="admin.user.unlock"');
    });

    it('should serve Bull Board read-only with its assets from the hub under a self-only CSP', async () => {
      const page = await admin.agent.get('/admin/queues/').expect(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("base-uri 'self'");
      expect(csp).not.toMatch(/https?:|\*/);
      expect(page.text).not.toMatch(/(href|src)="(https?:)?\/\//);
      expect(page.text).toContain('<base href="/admin/queues/"');
      const script = /<script defer src="(static\/js\/main\.[^"]+)"/.exec(page.text)?.[1];
      expect(script).toBeDefined();
      await admin.agent
        .get(`/admin/queues/${script ?? ''}`)
        .expect(200)
        .expect('Content-Type', /javascript/);
      const api = await admin.agent.get('/admin/queues/api/queues').expect(200);
      const queues = (api.body as { queues: { name: string; readOnlyMode: boolean }[] }).queues;
      expect(queues.map((q) => q.name).sort()).toEqual(Object.values(QueueName).sort());
      expect(queues.every((q) => q.readOnlyMode)).toBe(true);
      // The board's own API cannot change a queue: no CSRF token, and read-only besides.
      await admin.agent.put(`/admin/queues/api/queues/${QueueName.Sync}/pause`).expect(403);
      expect(await h.jobs?.queue(QueueName.Sync).isPaused()).toBe(false);
    });

    it('should render the admin pages and Bull Board in Chromium without CSP violations, at desktop and 390 px', async () => {
      const profile = mkdtempSync(path.join(tmpdir(), 'tributary-admin-chromium-'));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1280, height: 900 },
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
      });
      try {
        await context.addCookies([{ name: 'tributary_session', value: admin.sessionCookie, url: h.url }]);
        const page = await context.newPage();
        const violations: string[] = [];
        page.on('console', (msg) => {
          if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text());
        });
        mkdirSync(RESULTS, { recursive: true });
        for (const [name, url] of [
          ['admin-overview', '/admin'],
          ['admin-user', `/admin/users/${alice.userId}`],
        ] as const) {
          for (const width of [1280, 390]) {
            await page.setViewportSize({ width, height: 900 });
            await page.goto(`${h.url}${url}`);
            await page.getByRole('navigation', { name: 'Admin' }).waitFor();
            await page.screenshot({ path: path.join(RESULTS, `${name}-${width}.png`), fullPage: true });
            expect(Number(await page.evaluate<unknown>('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(
              width,
            );
          }
        }
        expect(violations).toEqual([]);

        await page.setViewportSize({ width: 1280, height: 900 });
        await page.goto(`${h.url}/admin/queues/`);
        // The board is a client-side app: its queue list appears once its scripts ran and its API answered.
        await page.getByText(QueueName.Sync, { exact: true }).first().waitFor({ timeout: 15_000 });
        await page.screenshot({ path: path.join(RESULTS, 'admin-queues-1280.png') });
        expect(violations).toEqual([]);
      } finally {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      }
    });
  });
});
