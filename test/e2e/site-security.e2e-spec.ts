import request from 'supertest';
import { type SiteHarness, httpServer, startSiteHarness } from './site-harness.util';
import {
  type Agent,
  RouteMissingError,
  type RouteEntry,
  type SignedIn,
  registeredRoutes,
  routeKey,
  seedActivity,
  signUpWithStrava,
  stateDigest,
} from './site-security.util';

jest.setTimeout(120_000);

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Routes every build has; the enumeration must find them, or it is not looking at the real router. */
const KNOWN_STATE_CHANGING = [
  'POST /signout',
  'POST /connections/:id/disconnect',
  'POST /api/sync/now',
  'POST /admin/users/:id/requeue',
  'POST /admin/users/:id/unlock',
];

interface Ids {
  userId: string;
  connectionId: string;
  activityId: string;
}

/** A concrete URL for a route pattern, naming the given user's own resources so that a request would act on them. */
function concretePath(route: RouteEntry, ids: Ids): string {
  return route.path
    .replace(/\{\/?\*\w+\}|\/?\*\w+/g, '/x')
    .replace(/[{}]/g, '')
    .replace(/:(\w+)/g, (_match, name: string) => {
      if (name === 'service') return 'strava';
      if (route.path.startsWith('/connections/')) return ids.connectionId;
      if (route.path.startsWith('/activities/') || route.path.startsWith('/api/activities/')) return ids.activityId;
      return ids.userId;
    });
}

/** The OAuth callback path the sandbox sends the browser back to, after approving `athleteId`. */
async function approvedCallback(h: SiteHarness, agent: Agent, athleteId: string): Promise<URL> {
  const start = await agent.get('/connect/strava').expect(302);
  const consent = new URL(start.headers.location as string);
  consent.searchParams.set('sandbox_athlete', athleteId);
  const approved = await fetch(consent, { redirect: 'manual' });
  expect(approved.status).toBe(302);
  const back = new URL(approved.headers.get('location') ?? '');
  expect(back.origin).toBe(h.url);
  return back;
}

describe('website security (e2e)', () => {
  let h: SiteHarness;
  let admin: SignedIn;
  let alice: SignedIn;
  let mallory: SignedIn;
  let adminIds: Ids;
  let aliceIds: Ids;
  let routes: RouteEntry[];

  beforeAll(async () => {
    h = await startSiteHarness({ queues: true });
    admin = await signUpWithStrava(h, 'Ada');
    alice = await signUpWithStrava(h, 'Alice');
    mallory = await signUpWithStrava(h, 'Mallory');
    await h.database.db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.userId).execute();
    adminIds = {
      userId: admin.userId,
      connectionId: admin.stravaConnectionId,
      activityId: await seedActivity(h, admin, 'Ada morning run'),
    };
    aliceIds = {
      userId: alice.userId,
      connectionId: alice.stravaConnectionId,
      activityId: await seedActivity(h, alice, 'Alice secret tempo run'),
    };
    routes = registeredRoutes(h.app);
  }, 120_000);
  afterAll(() => h?.close());

  describe('CSRF', () => {
    const stateChanging = (): RouteEntry[] =>
      routes.filter((r) => STATE_CHANGING.has(r.method) && !r.path.startsWith('/webhooks'));

    it('should enumerate the real router, webhooks excluded', () => {
      const keys = stateChanging().map(routeKey);
      expect(keys).toEqual(expect.arrayContaining(KNOWN_STATE_CHANGING));
      expect(keys.filter((k) => k.includes('/webhooks'))).toEqual([]);
      expect(routes.some((r) => r.path.startsWith('/webhooks'))).toBe(true);
    });

    it('should refuse every state-changing route without a token with 403, changing nothing', async () => {
      const outcomes: { route: string; status: number; error: unknown; changed: string[] }[] = [];
      for (const route of stateChanging()) {
        const before = await stateDigest(h);
        const res = await admin.agent[route.method.toLowerCase() as 'post' | 'put' | 'patch' | 'delete'](
          concretePath(route, adminIds),
        )
          .set('Accept', 'application/json')
          .type('form')
          .send({ name: 'changed', enabled: 'on' });
        const after = await stateDigest(h);
        const changed = Object.keys(before).filter((k) => before[k] !== after[k]);
        outcomes.push({
          route: routeKey(route),
          status: res.status,
          error: (res.body as { error?: unknown }).error,
          changed,
        });
      }
      expect(outcomes.filter((o) => o.status !== 403 || o.error !== 'csrf' || o.changed.length > 0)).toEqual([]);
      expect(outcomes.length).toBeGreaterThanOrEqual(KNOWN_STATE_CHANGING.length);
    });

    it("should refuse another session's token and a token sent without a session", async () => {
      for (const route of stateChanging()) {
        const path = concretePath(route, adminIds);
        const before = await stateDigest(h);
        const method = route.method.toLowerCase() as 'post' | 'put' | 'patch' | 'delete';
        const wrong = await admin.agent[method](path)
          .set('x-csrf-token', mallory.csrf)
          .set('Accept', 'application/json');
        const anonymous = await request(httpServer(h))
          [method](path)
          .set('x-csrf-token', admin.csrf)
          .set('Accept', 'application/json');
        expect({ route: routeKey(route), wrong: wrong.status, anonymous: anonymous.status }).toEqual({
          route: routeKey(route),
          wrong: 403,
          anonymous: 403,
        });
        expect(await stateDigest(h)).toEqual(before);
      }
    });

    it('should let the same request through with the session token (the refusals above are the CSRF check)', async () => {
      const res = await admin.agent
        .post('/api/sync/now')
        .set('x-csrf-token', admin.csrf)
        .set('Accept', 'application/json');
      expect(res.status).toBe(202);
    });
  });

  describe('OAuth state', () => {
    const connectionsOf = async (athleteId: string) =>
      h.database.db
        .selectFrom('connections')
        .select('user_id')
        .where('service', '=', 'strava')
        .where('external_user_id', '=', athleteId)
        .execute();
    const newAthlete = async (firstname: string): Promise<string> => {
      const res = (await h.control('POST', '/strava/athletes', { firstname, lastname: 'State' })) as {
        athlete: { id: number };
      };
      return String(res.athlete.id);
    };

    it('should refuse a callback whose state was altered, missing, or made for another browser, and connect nothing', async () => {
      const athlete = await newAthlete('Eve');
      const victim = request.agent(httpServer(h));
      const attacker = request.agent(httpServer(h));
      const back = await approvedCallback(h, attacker, athlete);
      const state = back.searchParams.get('state') ?? '';
      expect(state).not.toBe('');

      const altered = new URL(back);
      altered.searchParams.set('state', `${state.slice(0, -2)}AA`);
      const missing = new URL(back);
      missing.searchParams.delete('state');
      // Login CSRF: the attacker's approved callback, opened in the victim's browser (which started its own flow).
      await victim.get('/connect/strava').expect(302);
      const attempts = [
        { who: attacker, url: altered, what: 'altered state' },
        { who: attacker, url: missing, what: 'no state' },
        { who: victim, url: back, what: "another browser's state" },
        { who: request.agent(httpServer(h)), url: back, what: 'no session at all' },
      ];
      for (const { who, url, what } of attempts) {
        const res = await who.get(`${url.pathname}${url.search}`);
        expect({ what, refused: res.status >= 400 && res.status < 500 }).toEqual({ what, refused: true });
      }
      expect(await connectionsOf(athlete)).toEqual([]);
      // Neither browser got signed in by the refused callbacks.
      await victim.get('/dashboard').expect(303);
      await attacker.get('/dashboard').expect(303);

      // The untouched callback in the browser that started the flow still works, once.
      await attacker.get(`${back.pathname}${back.search}`).expect(303);
      expect(await connectionsOf(athlete)).toHaveLength(1);
      const replay = await attacker.get(`${back.pathname}${back.search}`);
      expect(replay.status).toBeGreaterThanOrEqual(400);
    });
  });

  describe("one user cannot reach another's data by id", () => {
    /**
     * Every route that takes an id of a user's resource. A route not served yet fails its case with a
     * RouteMissingError naming who was to add it: a gap is reported, never passed.
     */
    const CASES: { route: string; from: string; path: (ids: Ids) => string; body?: Record<string, string> }[] = [
      { route: 'GET /connections/:id/settings', from: 'H6', path: (i) => `/connections/${i.connectionId}/settings` },
      {
        route: 'POST /connections/:id/settings',
        from: 'H6',
        path: (i) => `/connections/${i.connectionId}/settings`,
        body: { syncPrivate: 'on', sendTo: 'off' },
      },
      {
        route: 'POST /connections/:id/disconnect',
        from: 'site',
        path: (i) => `/connections/${i.connectionId}/disconnect`,
      },
      { route: 'GET /activities/:id', from: 'H7', path: (i) => `/activities/${i.activityId}` },
      {
        route: 'GET /activities/:id/download',
        from: 'H7',
        path: (i) => `/activities/${i.activityId}/download?format=original`,
      },
      { route: 'POST /activities/:id/resync', from: 'H7', path: (i) => `/activities/${i.activityId}/resync` },
      { route: 'POST /activities/:id/forget', from: 'H7', path: (i) => `/activities/${i.activityId}/forget` },
      { route: 'GET /api/activities/:id', from: 'H7', path: (i) => `/api/activities/${i.activityId}` },
      { route: 'GET /admin/users/:id', from: 'H8', path: (i) => `/admin/users/${i.userId}` },
      { route: 'POST /admin/users/:id/requeue', from: 'H8', path: (i) => `/admin/users/${i.userId}/requeue` },
    ];

    it.each(CASES)('$route', async ({ route, from, path, body }) => {
      if (!routes.some((r) => routeKey(r) === route)) throw new RouteMissingError(route, from);
      const [method] = route.split(' ');
      const before = await stateDigest(h);
      const res =
        method === 'GET'
          ? await mallory.agent.get(path(aliceIds))
          : await mallory.agent
              .post(path(aliceIds))
              .type('form')
              .send({ ...body, _csrf: mallory.csrf });
      expect({ route, refused: [403, 404].includes(res.status) ? 'refused' : res.status }).toEqual({
        route,
        refused: 'refused',
      });
      expect(res.text).not.toContain('Alice secret tempo run');
      expect(res.text).not.toContain(alice.displayName);
      expect(await stateDigest(h)).toEqual(before);
      if (method === 'GET') {
        // The same URL works for whoever may see it (the owner; an administrator for admin pages), so the refusal
        // above is about who asks, not a broken route.
        const allowed = route.includes('/admin/') ? admin : alice;
        const own = await allowed.agent.get(path(aliceIds));
        expect({ route, allowed: own.status }).toEqual({ route, allowed: 200 });
      }
    });

    it("should keep lists, the dashboard and the sync status to the signed-in user's own data", async () => {
      const aliceRun = await h.database.db
        .insertInto('sync_runs')
        .values({ user_id: alice.userId, trigger: 'manual' })
        .returning('id')
        .executeTakeFirstOrThrow();
      const pages: { route: string; from: string }[] = [
        { route: 'GET /dashboard', from: 'site' },
        { route: 'GET /activities', from: 'H7' },
        { route: 'GET /api/activities', from: 'H7' },
        { route: 'GET /stats', from: 'H7' },
        { route: 'GET /settings', from: 'H6' },
        { route: 'GET /api/sync/status', from: 'H6' },
      ];
      for (const { route, from } of pages) {
        if (!routes.some((r) => routeKey(r) === route)) throw new RouteMissingError(route, from);
        const res = await mallory.agent.get(route.split(' ')[1] ?? '/');
        expect({ route, status: res.status }).toEqual({ route, status: 200 });
        for (const secret of ['Alice secret tempo run', alice.displayName, aliceIds.activityId, aliceRun.id]) {
          expect({ route, leaks: res.text.includes(secret) ? secret : null }).toEqual({ route, leaks: null });
        }
      }
    });
  });
});
