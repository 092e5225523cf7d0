import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { type SiteHarness, httpServer, startSiteHarness } from './site-harness.util';

type Agent = InstanceType<typeof TestAgent>;

interface Athlete {
  athlete: { id: number };
}
interface DropboxAccount {
  accountId: string;
}
interface RequestLog {
  requests: { path: string; method: string }[];
}

function csrfOf(page: string): string {
  const match = /<meta name="csrf-token" content="([^"]+)"/.exec(page);
  if (match?.[1] === undefined) throw new TypeError('page has no csrf token');
  return match[1];
}

function sessionCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const raw = res.headers['set-cookie'];
  const all = Array.isArray(raw) ? (raw as string[]) : [];
  return all.find((c) => c.startsWith('tributary_session='));
}

describe('website: sign in by connecting (e2e)', () => {
  let h: SiteHarness;

  beforeAll(async () => {
    h = await startSiteHarness();
  }, 60_000);
  afterAll(() => h?.close());

  const newAgent = (): Agent => request.agent(httpServer(h));

  async function newAthlete(firstname: string): Promise<string> {
    const res = (await h.control('POST', '/strava/athletes', { firstname, lastname: 'Tester' })) as Athlete;
    return String(res.athlete.id);
  }

  async function newDropbox(displayName: string): Promise<string> {
    const email = `${displayName.toLowerCase()}-${Date.now()}@example.test`;
    const res = (await h.control('POST', '/dropbox/accounts', { email, displayName })) as DropboxAccount;
    return res.accountId;
  }

  /** Starts the flow at the hub and lets the sandbox approve for `account`; returns the callback path + query. */
  async function authorize(agent: Agent, service: 'strava' | 'dropbox', account: string): Promise<string> {
    const start = await agent.get(`/connect/${service}`).expect(302);
    const consent = new URL(start.headers.location as string);
    consent.searchParams.set(service === 'strava' ? 'sandbox_athlete' : 'sandbox_account', account);
    const approved = await fetch(consent, { redirect: 'manual' });
    expect(approved.status).toBe(302);
    const back = new URL(approved.headers.get('location') as string);
    expect(`${back.origin}`).toBe(h.url);
    return `${back.pathname}${back.search}`;
  }

  async function connect(agent: Agent, service: 'strava' | 'dropbox', account: string): Promise<string> {
    const res = await agent.get(await authorize(agent, service, account)).expect(303);
    expect(res.headers.location).toMatch(/^\/dashboard\?notice=/);
    return res.headers.location as string;
  }

  async function dashboard(agent: Agent): Promise<string> {
    const res = await agent.get('/dashboard').expect(200);
    return res.text;
  }

  async function connectionsOf(userId: string): Promise<{ id: string; service: string }[]> {
    return h.database.db
      .selectFrom('connections')
      .select(['id', 'service'])
      .where('user_id', '=', userId)
      .orderBy('service')
      .execute();
  }

  async function userOf(service: string, externalUserId: string): Promise<string | undefined> {
    const row = await h.database.db
      .selectFrom('connections')
      .select('user_id')
      .where('service', '=', service)
      .where('external_user_id', '=', externalUserId)
      .executeTakeFirst();
    return row?.user_id;
  }

  async function requestsTo(pathPart: string): Promise<number> {
    const log = (await h.control('GET', '/requests')) as RequestLog;
    return log.requests.filter((r) => r.path.includes(pathPart)).length;
  }

  it('should serve the landing page with every service, connect buttons, the stylesheet and strict headers', async () => {
    const res = await request(httpServer(h)).get('/').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.text).toContain('Every activity, everywhere.');
    expect(res.text).toContain('connect a service to start');
    for (const name of ['Strava', 'Dropbox', 'Garmin']) expect(res.text).toContain(name);
    expect(res.text).toContain('href="/connect/strava"');
    expect(res.text).toContain('href="/connect/dropbox"');
    expect(res.text).toContain('href="/connect/garmin_connect"');
    expect(res.text).toContain('Sign in with the service (OAuth)');
    expect(res.text).toContain('Username and password');
    expect(sessionCookie(res)).toBeUndefined();

    const css = await request(httpServer(h)).get('/assets/site.css').expect(200);
    expect(css.headers['content-type']).toMatch(/text\/css/);
    expect(css.text).toContain('.cards');
    await request(httpServer(h))
      .get('/assets/site.css')
      .set('If-None-Match', css.headers.etag as string)
      .expect(304);
  });

  it('should refuse to connect an unknown or non-OAuth service with a clear page', async () => {
    const res = await request(httpServer(h)).get('/connect/local_folder').expect(404);
    expect(res.text).toContain('cannot be connected from the website');
    await request(httpServer(h)).get('/connect/nope').expect(404);
  });

  it('should sign up by connecting Strava, rotate the session, and show Strava on the dashboard', async () => {
    const agent = newAgent();
    const athlete = await newAthlete('Alice');
    const start = await agent.get('/connect/strava').expect(302);
    const anonCookie = sessionCookie(start);
    expect(anonCookie).toMatch(/HttpOnly/);
    expect(anonCookie).toMatch(/SameSite=Lax/);
    expect(anonCookie).not.toMatch(/Secure/);
    const consent = new URL(start.headers.location as string);
    expect(consent.searchParams.get('client_id')).toBe('12345');
    expect(consent.searchParams.get('redirect_uri')).toBe(`${h.url}/connect/strava/callback`);
    expect(consent.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    consent.searchParams.set('sandbox_athlete', athlete);
    const approved = await fetch(consent, { redirect: 'manual' });
    const back = new URL(approved.headers.get('location') as string);

    const done = await agent.get(`${back.pathname}${back.search}`).expect(303);
    expect(done.headers.location).toBe('/dashboard?notice=connected');
    const signedInCookie = sessionCookie(done);
    expect(signedInCookie).toBeDefined();
    expect(signedInCookie?.split(';')[0]).not.toBe(anonCookie?.split(';')[0]);

    const page = await dashboard(agent);
    expect(page).toContain('Alice Tester');
    expect(page).toContain('data-connection="strava"');
    expect(page).toContain('status-ok');
    expect(page).toContain('href="/connect/dropbox"');
    const landing = await agent.get('/').expect(200);
    expect(landing.text).toContain('Go to your dashboard');
    expect(landing.text).not.toContain('href="/connect/strava"');
    expect(landing.text).toContain('href="/connect/dropbox"');

    const userId = await userOf('strava', athlete);
    expect(userId).toBeDefined();
    const user = await h.database.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', userId as string)
      .executeTakeFirstOrThrow();
    expect(user.next_sync_exhaustive).toBe(true);
    expect(user.next_sync_at).not.toBeNull();
    const conn = await h.database.db
      .selectFrom('connections')
      .select('credentials_ciphertext')
      .where('user_id', '=', userId as string)
      .executeTakeFirstOrThrow();
    expect(conn.credentials_ciphertext).toMatch(/^v1:e2e:/);

    // The old (anonymous) cookie is dead after sign-in.
    const stale = request.agent(httpServer(h));
    await stale
      .get('/dashboard')
      .set('Cookie', (anonCookie as string).split(';')[0] as string)
      .expect(303);
  });

  it('should connect Dropbox while signed in, then disconnect it with the CSRF token (revoking the token)', async () => {
    const agent = newAgent();
    const athlete = await newAthlete('Bea');
    const dropbox = await newDropbox('BeaBox');
    await connect(agent, 'strava', athlete);
    expect(await connect(agent, 'dropbox', dropbox)).toBe('/dashboard?notice=connected');
    const userId = (await userOf('strava', athlete)) as string;
    expect(await userOf('dropbox', dropbox)).toBe(userId);
    expect((await connectionsOf(userId)).map((c) => c.service)).toEqual(['dropbox', 'strava']);

    const page = await dashboard(agent);
    expect(page).toContain('data-connection="dropbox"');
    const dropboxConn = (await connectionsOf(userId)).find((c) => c.service === 'dropbox');
    const revokesBefore = await requestsTo('/2/auth/token/revoke');
    const res = await agent
      .post(`/connections/${dropboxConn?.id}/disconnect`)
      .type('form')
      .send({ _csrf: csrfOf(page) })
      .expect(303);
    expect(res.headers.location).toBe('/dashboard?notice=disconnected');
    expect((await connectionsOf(userId)).map((c) => c.service)).toEqual(['strava']);
    expect(await requestsTo('/2/auth/token/revoke')).toBe(revokesBefore + 1);
    expect(await dashboard(agent)).not.toContain('data-connection="dropbox"');
  });

  it('should refuse state-changing requests without or with a wrong CSRF token (403), changing nothing', async () => {
    const agent = newAgent();
    const athlete = await newAthlete('Cleo');
    await connect(agent, 'strava', athlete);
    const userId = (await userOf('strava', athlete)) as string;
    const [conn] = await connectionsOf(userId);
    const path = `/connections/${conn?.id}/disconnect`;

    const missing = await agent.post(path).type('form').send({}).set('Accept', 'text/html').expect(403);
    expect(missing.text).toContain('Request refused');
    await agent.post(path).type('form').send({ _csrf: 'wrong' }).expect(403);
    await agent.post(path).set('X-CSRF-Token', 'x'.repeat(43)).expect(403);
    await agent.post('/signout').type('form').send({}).expect(403);
    // Without any session: refused too.
    await request(httpServer(h)).post(path).type('form').send({ _csrf: 'x' }).expect(403);
    expect(await connectionsOf(userId)).toHaveLength(1);

    // The header form works for scripts.
    const token = csrfOf(await dashboard(agent));
    await agent.post('/signout').set('X-CSRF-Token', token).expect(303);
    await agent.get('/dashboard').expect(303);
  });

  it('should refuse a Strava connection whose granted scope lacks reading all activities, connecting nothing', async () => {
    const agent = newAgent();
    const athlete = await newAthlete('Erin');
    const start = await agent.get('/connect/strava').expect(302);
    const consent = new URL(start.headers.location as string);
    consent.searchParams.set('sandbox_athlete', athlete);
    // The athlete unticks "view data about your private activities" on the consent page.
    consent.searchParams.set('sandbox_scope', 'read,activity:write');
    const approved = await fetch(consent, { redirect: 'manual' });
    const back = new URL(approved.headers.get('location') as string);
    expect(back.searchParams.get('scope')).toBe('read,activity:write');

    const res = await agent.get(`${back.pathname}${back.search}`).expect(502);
    expect(res.text).toContain('activity:read_all');
    expect(await userOf('strava', athlete)).toBeUndefined();
  });

  it('should refuse an OAuth callback whose state belongs to another browser or was tampered with (403)', async () => {
    const athlete = await newAthlete('Dan');
    const victim = newAgent();
    const attacker = newAgent();
    const callback = await authorize(attacker, 'strava', athlete);

    const res = await victim.get(callback).expect(403);
    expect(res.text).toContain('Connection refused');
    expect(res.text).toContain('was not started in this browser');
    expect(await userOf('strava', athlete)).toBeUndefined();

    const tampered = callback.replace(/state=[^&]+/, 'state=AAAA');
    await attacker.get(tampered).expect(403);
    // The state is single use: after a refusal the original callback no longer works either, as the flow restarts.
    const fresh = await authorize(attacker, 'strava', athlete);
    await attacker.get(fresh).expect(303);
    await attacker.get(fresh).expect(403);
    expect(await userOf('strava', athlete)).toBeDefined();
  });

  it("should keep users apart: one user never sees or changes another user's connections", async () => {
    const alice = newAgent();
    const bob = newAgent();
    const a = await newAthlete('Ann');
    const b = await newAthlete('Ben');
    await connect(alice, 'strava', a);
    await connect(bob, 'strava', b);
    const aliceId = (await userOf('strava', a)) as string;
    const bobId = (await userOf('strava', b)) as string;
    expect(aliceId).not.toBe(bobId);

    const bobPage = await dashboard(bob);
    expect(bobPage).toContain('Ben Tester');
    expect(bobPage).not.toContain('Ann Tester');
    const [aliceConn] = await connectionsOf(aliceId);
    expect(bobPage).not.toContain(aliceConn?.id as string);

    await bob
      .post(`/connections/${aliceConn?.id}/disconnect`)
      .type('form')
      .send({ _csrf: csrfOf(bobPage) })
      .expect(404);
    expect(await connectionsOf(aliceId)).toHaveLength(1);
    // Bob's CSRF token is worthless in Alice's session.
    await alice
      .post(`/connections/${aliceConn?.id}/disconnect`)
      .type('form')
      .send({ _csrf: csrfOf(bobPage) })
      .expect(403);
  });

  it('should merge the signed-in user into the owner when connecting an account the owner already has', async () => {
    const owner = newAgent();
    const other = newAgent();
    const athlete = await newAthlete('Mia');
    const box = await newDropbox('MiaBox');
    await connect(owner, 'strava', athlete);
    const ownerId = (await userOf('strava', athlete)) as string;
    await connect(other, 'dropbox', box);
    const otherId = (await userOf('dropbox', box)) as string;
    expect(otherId).not.toBe(ownerId);

    expect(await connect(other, 'strava', athlete)).toBe('/dashboard?notice=merged');
    expect(await userOf('dropbox', box)).toBe(ownerId);
    expect((await connectionsOf(ownerId)).map((c) => c.service)).toEqual(['dropbox', 'strava']);
    const gone = await h.database.db.selectFrom('users').select('id').where('id', '=', otherId).execute();
    expect(gone).toEqual([]);
    expect(await dashboard(other)).toContain('data-connection="dropbox"');
  });

  it('should delete the user when the last service is disconnected, and end the session', async () => {
    const agent = newAgent();
    const athlete = await newAthlete('Lia');
    await connect(agent, 'strava', athlete);
    const userId = (await userOf('strava', athlete)) as string;
    const [conn] = await connectionsOf(userId);
    const page = await dashboard(agent);
    expect(page).toContain('deletes your Tributary account');
    const revokesBefore = await requestsTo('/oauth/deauthorize');
    const res = await agent
      .post(`/connections/${conn?.id}/disconnect`)
      .type('form')
      .send({ _csrf: csrfOf(page) })
      .expect(303);
    expect(res.headers.location).toBe('/');
    expect(sessionCookie(res)).toMatch(/tributary_session=;/);
    expect(await requestsTo('/oauth/deauthorize')).toBe(revokesBefore + 1);
    const users = await h.database.db.selectFrom('users').select('id').where('id', '=', userId).execute();
    expect(users).toEqual([]);
    const sessions = await h.database.db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute();
    expect(sessions).toEqual([]);
    await agent.get('/dashboard').expect(303);
  });

  it('should leave webhooks and health checks outside sessions and CSRF', async () => {
    await request(httpServer(h)).get('/health/live').expect(200);
    const res = await request(httpServer(h)).post('/webhooks/nothing-here').send({}).expect(404);
    expect(res.status).not.toBe(403);
  });
});
