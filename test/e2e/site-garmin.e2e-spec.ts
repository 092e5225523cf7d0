import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { type SiteHarness, httpServer, startSiteHarness } from './site-harness.util';

type Agent = InstanceType<typeof TestAgent>;

function csrfOf(page: string): string {
  const match = /<meta name="csrf-token" content="([^"]+)"/.exec(page);
  if (match?.[1] === undefined) throw new TypeError('page has no csrf token');
  return match[1];
}

describe('website: connecting Garmin Connect with username and password (e2e)', () => {
  let h: SiteHarness;

  beforeAll(async () => {
    h = await startSiteHarness();
  }, 60_000);
  afterAll(() => h?.close());

  const newAgent = (): Agent => request.agent(httpServer(h));

  async function garminAccount(mfa: boolean): Promise<{ username: string; password: string }> {
    const username = `runner-${Date.now()}-${Math.random().toString(16).slice(2, 8)}@example.test`;
    const password = 'correct horse battery';
    await h.control('POST', '/garmin/accounts', { username, password, mfa, mfaCode: '424242' });
    return { username, password };
  }

  async function loginForm(agent: Agent): Promise<string> {
    const page = await agent.get('/connect/garmin_connect').expect(200);
    expect(page.text).toContain('autocomplete="current-password"');
    return csrfOf(page.text);
  }

  async function ownerOf(username: string): Promise<string | undefined> {
    const row = await h.database.db
      .selectFrom('connections')
      .select(['user_id', 'credentials_ciphertext'])
      .where('service', '=', 'garmin_connect')
      .where('external_user_id', '=', username.toLowerCase())
      .executeTakeFirst();
    if (row !== undefined) expect(row.credentials_ciphertext).not.toContain('correct horse');
    return row?.user_id;
  }

  it('should show a login form on the landing page link, refuse a wrong password, and connect with the right one', async () => {
    const landing = await request(httpServer(h)).get('/').expect(200);
    expect(landing.text).toContain('href="/connect/garmin_connect"');
    const agent = newAgent();
    const account = await garminAccount(false);
    const csrf = await loginForm(agent);

    const wrong = await agent
      .post('/connect/garmin_connect/login')
      .type('form')
      .send({ _csrf: csrf, username: account.username, password: 'nope' })
      .expect(401);
    expect(wrong.text).toContain('did not accept that username and password');
    expect(wrong.text).toContain(`value="${account.username}"`);
    expect(wrong.text).not.toContain('value="nope"');
    expect(await ownerOf(account.username)).toBeUndefined();

    const ok = await agent
      .post('/connect/garmin_connect/login')
      .type('form')
      .send({ _csrf: csrf, ...account })
      .expect(303);
    expect(ok.headers.location).toBe('/dashboard?notice=connected');
    expect(await ownerOf(account.username)).toBeDefined();
    const dashboard = await agent.get('/dashboard').expect(200);
    expect(dashboard.text).toContain('data-connection="garmin_connect"');
  }, 30_000);

  it('should ask for the verification code, keep the password server-side, and connect with the right code', async () => {
    const agent = newAgent();
    const account = await garminAccount(true);
    const csrf = await loginForm(agent);
    const step1 = await agent
      .post('/connect/garmin_connect/login')
      .type('form')
      .send({ _csrf: csrf, ...account })
      .expect(200);
    expect(step1.text).toContain('Verification code');
    expect(step1.text).not.toContain(account.password);

    // Another browser cannot finish this login.
    const stranger = newAgent();
    const strangerCsrf = await loginForm(stranger);
    const refused = await stranger
      .post('/connect/garmin_connect/mfa')
      .type('form')
      .send({ _csrf: strangerCsrf, code: '424242' })
      .expect(400);
    expect(refused.text).toContain('took too long or was already finished');

    // A wrong code keeps the login parked and asks again.
    const wrongCode = await agent
      .post('/connect/garmin_connect/mfa')
      .type('form')
      .send({ _csrf: csrf, code: '000000' })
      .expect(200);
    expect(wrongCode.text).toContain('That code was not accepted');
    expect(await ownerOf(account.username)).toBeUndefined();

    const done = await agent
      .post('/connect/garmin_connect/mfa')
      .type('form')
      .send({ _csrf: csrf, code: '424242' })
      .expect(303);
    expect(done.headers.location).toBe('/dashboard?notice=connected');
    expect(await ownerOf(account.username)).toBeDefined();
    // The parked login is gone once used.
    await agent.post('/connect/garmin_connect/mfa').type('form').send({ _csrf: csrf, code: '424242' }).expect(403);
  }, 40_000);
});
