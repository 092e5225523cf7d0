import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { startSandbox, type SandboxHandle } from '../sandbox.app';
import { control, json } from '../testing/sandbox-test.util';
import { GarminSimulator } from './garmin.simulator';

const FIXTURES = resolve(__dirname, '../../../../../shared/fixtures');
const fixture = (name: string): Buffer => readFileSync(resolve(FIXTURES, name));

type Json = Record<string, unknown>;

/** A cookie jar just big enough for the SSO form flow. */
class Jar {
  private readonly cookies = new Map<string, string>();

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = (pair ?? '').indexOf('=');
      if (eq > 0) this.cookies.set((pair as string).slice(0, eq), (pair as string).slice(eq + 1));
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }
}

describe(GarminSimulator.name, () => {
  let sut: SandboxHandle;
  let ctl: ReturnType<typeof control>;

  beforeAll(async () => {
    sut = await startSandbox({ port: 0, fixturesDir: FIXTURES });
    ctl = control(sut.url);
  });

  afterAll(async () => {
    await sut.close();
  });

  beforeEach(async () => {
    await ctl.post('/reset');
  });

  const api = (path: string, token: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${sut.urls.garmin}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
    });

  async function classicLogin(
    username: string,
    password: string,
    mfaCode?: string,
  ): Promise<{ ticket?: string; status: number; title: string }> {
    const jar = new Jar();
    const sso = sut.urls.garminSso;
    jar.store(await fetch(`${sso}/sso/embed?id=gauth-widget&embedWidget=true`));
    const signin = await fetch(`${sso}/sso/signin?id=gauth-widget&embedWidget=true`, {
      headers: { cookie: jar.header() },
    });
    jar.store(signin);
    const csrf = /name="_csrf"\s+value="(.+?)"/.exec(await signin.text())?.[1] as string;
    let res = await fetch(`${sso}/sso/signin`, {
      method: 'POST',
      headers: { cookie: jar.header() },
      body: new URLSearchParams({ username, password, embed: 'true', _csrf: csrf }),
    });
    let html = await res.text();
    let title = /<title>(.+?)<\/title>/.exec(html)?.[1] ?? '';
    if (title.includes('MFA') && mfaCode !== undefined) {
      const csrf2 = /name="_csrf"\s+value="(.+?)"/.exec(html)?.[1] as string;
      res = await fetch(`${sso}/sso/verifyMFA/loginEnterMfaCode`, {
        method: 'POST',
        headers: { cookie: jar.header() },
        body: new URLSearchParams({ 'mfa-code': mfaCode, embed: 'true', _csrf: csrf2, fromPage: 'setupEnterMfaCode' }),
      });
      html = await res.text();
      title = /<title>(.+?)<\/title>/.exec(html)?.[1] ?? '';
    }
    return { ticket: /embed\?ticket=([^"]+)"/.exec(html)?.[1], status: res.status, title };
  }

  async function tokenFromTicket(ticket: string): Promise<Json> {
    const oauth = 'OAuth oauth_consumer_key="k", oauth_signature_method="HMAC-SHA1", oauth_signature="s"';
    const pre = await fetch(
      `${sut.urls.garmin}/oauth-service/oauth/preauthorized?ticket=${ticket}&login-url=https://sso.garmin.com/sso/embed&accepts-mfa-tokens=true`,
      { headers: { authorization: oauth } },
    );
    expect(pre.status).toBe(200);
    const params = new URLSearchParams(await pre.text());
    const exchange = await fetch(`${sut.urls.garmin}/oauth-service/oauth/exchange/user/2.0`, {
      method: 'POST',
      headers: { authorization: `${oauth}, oauth_token="${params.get('oauth_token') as string}"` },
    });
    expect(exchange.status).toBe(200);
    return json(exchange);
  }

  describe('login', () => {
    it('should run the classic SSO form flow to a ticket and OAuth tokens', async () => {
      await ctl.post('/garmin/accounts', { username: 'Ann@Example.com', password: 'pw' });
      const login = await classicLogin('ann@example.com', 'pw');
      expect(login.title).toBe('Success');
      expect(login.ticket).toMatch(/^ST-\d{7}-\w+-cas$/);
      const token = await tokenFromTicket(login.ticket as string);
      expect(token).toMatchObject({
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: expect.any(String) as unknown,
      });
      const profile = await json(await api('/userprofile-service/socialProfile', token.access_token as string));
      expect(profile).toMatchObject({ displayName: 'Ann' });
      // A ticket is single-use.
      const reuse = await fetch(
        `${sut.urls.garmin}/oauth-service/oauth/preauthorized?ticket=${login.ticket as string}`,
        { headers: { authorization: 'OAuth x' } },
      );
      expect(reuse.status).toBe(401);
    });

    it('should refuse a wrong password and a missing CSRF token', async () => {
      await ctl.post('/garmin/accounts', { username: 'bob', password: 'pw' });
      const bad = await classicLogin('bob', 'nope');
      expect(bad.status).toBe(401);
      expect(bad.ticket).toBeUndefined();
      const noCsrf = await fetch(`${sut.urls.garminSso}/sso/signin`, {
        method: 'POST',
        body: new URLSearchParams({ username: 'bob', password: 'pw' }),
      });
      expect(noCsrf.status).toBe(403);
    });

    it('should demand the MFA code on the classic flow for MFA accounts', async () => {
      await ctl.post('/garmin/accounts', { username: 'mfa', password: 'pw', mfa: true, mfaCode: '424242' });
      const wrong = await classicLogin('mfa', 'pw', '000000');
      expect(wrong.ticket).toBeUndefined();
      expect(wrong.title).toContain('MFA');
      const ok = await classicLogin('mfa', 'pw', '424242');
      expect(ok.title).toBe('Success');
      const pre = await fetch(`${sut.urls.garmin}/oauth-service/oauth/preauthorized?ticket=${ok.ticket as string}`, {
        headers: { authorization: 'OAuth x' },
      });
      expect(new URLSearchParams(await pre.text()).get('mfa_token')).toEqual(expect.any(String) as unknown);
    });

    it('should run the mobile JSON flow with MFA and trade the ticket for a DI token', async () => {
      await ctl.post('/garmin/accounts', { username: 'mob', password: 'pw', mfa: true });
      const login = await fetch(
        `${sut.urls.garminSso}/mobile/api/login?clientId=GCM_ANDROID_DARK&locale=en-US&service=https://mobile.integration.garmin.com/gcm/android`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'mob', password: 'pw', rememberMe: true, captchaToken: '' }),
        },
      );
      const cookie = login.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      expect(await json(login)).toMatchObject({
        responseStatus: { type: 'MFA_REQUIRED' },
        customerMfaInfo: { mfaLastMethodUsed: 'email' },
      });
      const verify = await json(
        await fetch(`${sut.urls.garminSso}/mobile/api/mfa/verifyCode`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie },
          body: JSON.stringify({
            mfaMethod: 'email',
            mfaVerificationCode: '123456',
            rememberMyBrowser: false,
            reconsentList: [],
            mfaSetup: false,
          }),
        }),
      );
      expect(verify).toMatchObject({
        responseStatus: { type: 'SUCCESSFUL' },
        serviceTicketId: expect.stringMatching(/^ST-/) as unknown,
      });
      const di = await fetch(`${sut.urls.garminSso}/di-oauth2-service/oauth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('GARMIN_CONNECT_MOBILE_ANDROID_DI:').toString('base64')}` },
        body: new URLSearchParams({
          client_id: 'GARMIN_CONNECT_MOBILE_ANDROID_DI',
          service_ticket: verify.serviceTicketId as string,
          grant_type: 'https://connectapi.garmin.com/di-oauth2-service/oauth/grant/service_ticket',
          service_url: 'https://mobile.integration.garmin.com/gcm/android',
        }),
      });
      const token = await json(di);
      const claims = JSON.parse(
        Buffer.from((token.access_token as string).split('.')[1] as string, 'base64url').toString(),
      ) as Json;
      expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
      const refreshed = await json(
        await fetch(`${sut.urls.garmin}/di-oauth2-service/oauth/token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: token.refresh_token as string,
            client_id: 'GARMIN_CONNECT_MOBILE_ANDROID_DI',
          }),
        }),
      );
      expect((await api('/activitylist-service/activities/count', refreshed.access_token as string)).status).toBe(200);

      const bad = await json(
        await fetch(`${sut.urls.garminSso}/mobile/api/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'mob', password: 'x' }),
        }),
      );
      expect(bad).toMatchObject({ responseStatus: { type: 'INVALID_USERNAME_PASSWORD' } });
    });
  });

  describe('activities', () => {
    async function user(): Promise<string> {
      await ctl.post('/garmin/accounts', { username: 'u@example.com', password: 'pw' });
      return (await ctl.post<Json>('/garmin/tokens', { username: 'u@example.com' })).access_token as string;
    }

    it('should page the list with start/limit, newest first, in Garmin time formats', async () => {
      const token = await user();
      for (let i = 0; i < 3; i++) {
        await ctl.post('/garmin/activities', {
          username: 'u@example.com',
          spec: { start: Date.UTC(2024, 4, 1 + i, 6), sport: 'Ride' },
        });
      }
      const first = await json<Json[]>(
        await api('/activitylist-service/activities/search/activities?start=0&limit=2', token),
      );
      const rest = await json<Json[]>(
        await api('/activitylist-service/activities/search/activities?start=2&limit=2', token),
      );
      const none = await json<Json[]>(
        await api('/activitylist-service/activities/search/activities?start=4&limit=2', token),
      );
      expect(first.map((a) => a.startTimeGMT)).toEqual(['2024-05-03 06:00:00', '2024-05-02 06:00:00']);
      expect(rest).toHaveLength(1);
      expect(none).toEqual([]);
      expect(first[0]).toMatchObject({
        activityType: { typeKey: 'cycling' },
        startTimeLocal: '2024-05-03 00:00:00',
        beginTimestamp: Date.UTC(2024, 4, 3, 6),
        ownerDisplayName: 'u',
        privacy: { typeKey: 'private' },
      });
      const asc = await json<Json[]>(
        await api('/activitylist-service/activities/search/activities?start=0&limit=5&sortOrder=asc', token),
      );
      expect(asc[0]?.startTimeGMT).toBe('2024-05-01 06:00:00');
      const detail = await json(await api(`/activity-service/activity/${String(first[0]?.activityId)}`, token));
      expect(detail).toMatchObject({
        summaryDTO: { startTimeLocal: '2024-05-03T00:00:00.0', startTimeGMT: '2024-05-03T06:00:00.0' },
        timeZoneUnitDTO: { unitKey: 'America/Denver' },
      });
    });

    it('should download the original FIT inside a zip', async () => {
      const token = await user();
      const created = await ctl.post<Json>('/garmin/activities', {
        username: 'u@example.com',
        fixture: 'fit/garmin-fenix-5-walk.fit',
      });
      const res = await api(`/download-service/files/activity/${String(created.activityId)}`, token);
      expect(res.status).toBe(200);
      const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
      expect(Object.keys(files)).toEqual([`${String(created.activityId)}_ACTIVITY.fit`]);
      expect(
        Buffer.from(files[`${String(created.activityId)}_ACTIVITY.fit`] as Uint8Array).equals(
          fixture('fit/garmin-fenix-5-walk.fit'),
        ),
      ).toBe(true);
      expect((await api('/download-service/files/activity/1', token)).status).toBe(404);
    });

    it('should accept a FIT upload with 202, reveal the id on the status poll, and 409 a duplicate', async () => {
      const token = await user();
      const send = (name: string): Promise<Response> => {
        const form = new FormData();
        form.set('file', new Blob([new Uint8Array(fixture('fit/garmin-fenix-5-bike.fit'))]), name);
        return api('/upload-service/upload', token, { method: 'POST', body: form });
      };
      const res = await send('bike.fit');
      expect(res.status).toBe(202);
      const accepted = (await json(res)).detailedImportResult as Json;
      expect(accepted).toMatchObject({
        fileName: 'bike.fit',
        successes: [],
        failures: [],
        uploadUuid: { uuid: expect.any(String) as unknown },
      });
      expect(accepted.creationDate).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} GMT$/);
      const uuid = ((accepted.uploadUuid as Json).uuid as string).replace(/-/g, '');
      const status = await api(`/activity-service/activity/status/${Date.now()}/${uuid}`, token);
      expect(status.status).toBe(201);
      const internalId = (((await json(status)).detailedImportResult as Json).successes as Json[])[0]
        ?.internalId as number;
      expect(status.headers.get('location')).toMatch(new RegExp(`/activity-service/activity/${internalId}$`));
      const listed = await ctl.get<Json[]>('/garmin/activities?username=u@example.com');
      expect(listed.map((a) => a.activityId)).toEqual([internalId]);

      const dup = await send('again.fit');
      expect(dup.status).toBe(409);
      const failure = (((await json(dup)).detailedImportResult as Json).failures as Json[])[0];
      expect(failure).toMatchObject({ internalId, messages: [{ code: 202, content: 'Duplicate Activity.' }] });
    });

    it('should accept the tapiriik-style upload path and field, keep a GPX original and refuse without EU consent', async () => {
      const token = await user();
      const form = new FormData();
      form.set('data', new Blob([new Uint8Array(fixture('gpx/gpxpy_around-visnjan-with-car.gpx'))]), 'route.gpx');
      const res = await api('/upload-service/upload/.gpx', token, {
        method: 'POST',
        body: form,
        headers: { NK: 'NT' },
      });
      expect(res.status).toBe(202);
      const [activity] = await ctl.get<Json[]>('/garmin/activities?username=u@example.com');
      expect(activity).toMatchObject({ fileFormat: 'gpx' });
      const zip = await api(`/download-service/files/activity/${String(activity?.activityId)}`, token);
      expect(Object.keys(unzipSync(new Uint8Array(await zip.arrayBuffer())))).toEqual([
        `${String(activity?.activityId)}_ACTIVITY.gpx`,
      ]);

      await ctl.post('/garmin/accounts', { username: 'eu', password: 'pw', uploadConsent: false });
      const euToken = (await ctl.post<Json>('/garmin/tokens', { username: 'eu' })).access_token as string;
      const euForm = new FormData();
      euForm.set('file', new Blob([new Uint8Array(fixture('fit/garmin-fenix-5-run.fit'))]), 'run.fit');
      const refused = await api('/upload-service/upload', euToken, { method: 'POST', body: euForm });
      expect(refused.status).toBe(412);
      const failure = (((await json(refused)).detailedImportResult as Json).failures as Json[])[0];
      expect(failure?.messages).toEqual([
        { code: 3, content: 'The user is from EU location, but upload consent is not yet granted or revoked' },
      ]);
    });

    it('should turn a ticket into web session cookies that authorise the proxy API', async () => {
      await ctl.post('/garmin/accounts', { username: 'web', password: 'pw' });
      const login = await classicLogin('web', 'pw');
      const res = await fetch(`${sut.urls.garmin}/modern/?ticket=${login.ticket as string}`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const cookie = res.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      expect(cookie).toContain('SESSIONID=');
      const list = await fetch(
        `${sut.urls.garmin}/modern/proxy/activitylist-service/activities/search/activities?start=0&limit=20`,
        { headers: { cookie } },
      );
      expect(list.status).toBe(200);
      expect(await list.json()).toEqual([]);
    });

    it('should answer 401 once the session expires, or ROLE_SYSTEM demo data with the trap enabled', async () => {
      const token = await user();
      await ctl.post('/clock', { advanceSeconds: 3601 });
      expect((await api('/activitylist-service/activities/search/activities?start=0&limit=20', token)).status).toBe(
        401,
      );
      await ctl.call('PATCH', '/settings', { garmin: { roleSystemTrap: true } });
      try {
        const trap = await api('/activitylist-service/activities/search/activities?start=0&limit=20', token);
        expect(trap.status).toBe(200);
        const items = await json<Json[]>(trap);
        expect(items.length).toBeGreaterThan(0);
        expect(items.every((i) => (i.userRoles as string[]).includes('ROLE_SYSTEM'))).toBe(true);
      } finally {
        await ctl.call('PATCH', '/settings', { garmin: { roleSystemTrap: false } });
      }
    });

    it('should rename via PUT and delete via DELETE', async () => {
      const token = await user();
      const created = await ctl.post<Json>('/garmin/activities', {
        username: 'u@example.com',
        spec: { start: '2024-01-01T10:00:00Z' },
      });
      const put = await api(`/activity-service/activity/${String(created.activityId)}`, token, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          activityId: created.activityId,
          activityName: 'Renamed',
          accessControlRuleDTO: { typeKey: 'public' },
        }),
      });
      expect(put.status).toBe(204);
      const detail = await json(
        await api(`/modern/proxy/activity-service/activity/${String(created.activityId)}`, token),
      );
      expect(detail).toMatchObject({ activityName: 'Renamed', accessControlRuleDTO: { typeKey: 'public' } });
      expect(
        (await api(`/activity-service/activity/${String(created.activityId)}`, token, { method: 'DELETE' })).status,
      ).toBe(204);
      expect((await api(`/activity-service/activity/${String(created.activityId)}`, token)).status).toBe(404);
    });
  });
});
