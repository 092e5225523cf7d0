import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startSandbox, type SandboxHandle } from '../sandbox.app';
import { control, json, startCallbackServer } from '../testing/sandbox-test.util';
import { StravaSimulator } from './strava.simulator';

const FIXTURES = resolve(__dirname, '../../../../../shared/fixtures');
const fixture = (name: string): Buffer => readFileSync(resolve(FIXTURES, name));

type Json = Record<string, unknown>;

describe(StravaSimulator.name, () => {
  let sut: SandboxHandle;
  let base: string;
  let ctl: ReturnType<typeof control>;

  beforeAll(async () => {
    sut = await startSandbox({ port: 0, fixturesDir: FIXTURES, strava: { webhookRetryDelayMs: 10 } });
    base = sut.urls.strava;
    ctl = control(sut.url);
  });

  afterAll(async () => {
    await sut.close();
  });

  beforeEach(async () => {
    await ctl.post('/reset');
  });

  const api = (path: string, token: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${base}/api/v3${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
    });

  async function athleteWithToken(
    scope: string[] = ['activity:read_all', 'activity:write'],
  ): Promise<{ id: number; token: string }> {
    const res = await ctl.post<{ athlete: Json; token: Json }>('/strava/athletes', { token: { scope } });
    return { id: res.athlete.id as number, token: res.token.access_token as string };
  }

  async function authorize(athleteId: number, scope: string, state = 'xyz'): Promise<URL> {
    const q = new URLSearchParams({
      client_id: '12345',
      redirect_uri: 'http://hub.test/callback',
      response_type: 'code',
      approval_prompt: 'auto',
      scope,
      state,
      sandbox_athlete: String(athleteId),
    });
    const res = await fetch(`${base}/oauth/authorize?${q.toString()}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location') as string);
  }

  const tokenRequest = (params: Record<string, string>): Promise<Response> =>
    fetch(`${base}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: '12345', client_secret: 'sandbox-strava-secret', ...params }),
    });

  describe('OAuth', () => {
    it('should exchange a code once and return the athlete with an expiring token', async () => {
      const { athlete } = await ctl.post<{ athlete: Json }>('/strava/athletes', { username: 'ann' });
      const redirect = await authorize(athlete.id as number, 'activity:read_all,activity:write');
      expect(redirect.searchParams.get('state')).toBe('xyz');
      expect(redirect.searchParams.get('scope')).toBe('read,activity:read_all,activity:write');
      const code = redirect.searchParams.get('code') as string;

      const res = await tokenRequest({ code, grant_type: 'authorization_code' });
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body).toMatchObject({
        token_type: 'Bearer',
        expires_in: 21600,
        athlete: { id: athlete.id, username: 'ann' },
      });
      expect(Math.abs((body.expires_at as number) - (Math.floor(Date.now() / 1000) + 21600))).toBeLessThanOrEqual(2);

      const again = await tokenRequest({ code, grant_type: 'authorization_code' });
      expect(again.status).toBe(400);
      expect(await json(again)).toEqual({
        message: 'Bad Request',
        errors: [{ resource: 'RequestToken', field: 'code', code: 'invalid' }],
      });
    });

    it('should refuse a bad client and report access_denied when the user cancels', async () => {
      const bad = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          client_id: '999',
          client_secret: 'x',
          code: 'c',
          grant_type: 'authorization_code',
        }),
      });
      expect(await json(bad)).toEqual({
        message: 'Bad Request',
        errors: [{ resource: 'Application', field: 'client_id', code: 'invalid' }],
      });
      const { athlete } = await ctl.post<{ athlete: Json }>('/strava/athletes', {});
      const q = new URLSearchParams({
        client_id: '12345',
        redirect_uri: 'http://hub.test/cb',
        response_type: 'code',
        scope: 'read',
        sandbox_athlete: String(athlete.id),
        sandbox_deny: '1',
      });
      const res = await fetch(`${base}/oauth/authorize?${q.toString()}`, { redirect: 'manual' });
      expect(new URL(res.headers.get('location') as string).searchParams.get('error')).toBe('access_denied');
    });

    it('should serve an HTML consent page that issues a code when submitted', async () => {
      const { athlete } = await ctl.post<{ athlete: Json }>('/strava/athletes', {});
      const q = new URLSearchParams({
        client_id: '12345',
        redirect_uri: 'http://hub.test/cb',
        response_type: 'code',
        scope: 'activity:read_all',
        state: 's1',
      });
      const page = await fetch(`${base}/oauth/authorize?${q.toString()}`);
      expect(await page.text()).toContain('name="athlete"');
      const submit = await fetch(`${base}/oauth/authorize`, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams({
          client_id: '12345',
          redirect_uri: 'http://hub.test/cb',
          state: 's1',
          athlete: String(athlete.id),
          scope: 'activity:read_all',
          decision: 'authorize',
        }),
      });
      const location = new URL(submit.headers.get('location') as string);
      expect(location.searchParams.get('code')).toMatch(/^[0-9a-f]{40}$/);
      expect(location.searchParams.get('scope')).toBe('read,activity:read_all');
    });

    it('should return the same token when refreshed early and rotate the refresh token once expired', async () => {
      const { athlete } = await ctl.post<{ athlete: Json }>('/strava/athletes', {});
      const code = (await authorize(athlete.id as number, 'activity:read_all')).searchParams.get('code') as string;
      const first = await json(await tokenRequest({ code, grant_type: 'authorization_code' }));

      await ctl.post('/clock', { advanceSeconds: 600 });
      const early = await json(
        await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string }),
      );
      expect(early.access_token).toBe(first.access_token);
      expect(early.expires_at).toBe(first.expires_at);
      expect(early.expires_in).toBeLessThan(first.expires_in as number);
      expect(early).not.toHaveProperty('athlete');

      await ctl.post('/clock', { advanceSeconds: 21600 });
      const expired = await api('/athlete', first.access_token as string);
      expect(expired.status).toBe(401);
      expect(await json(expired)).toEqual({
        message: 'Authorization Error',
        errors: [{ resource: 'Athlete', field: 'access_token', code: 'invalid' }],
      });

      const rotated = await json(
        await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string }),
      );
      expect(rotated.access_token).not.toBe(first.access_token);
      expect(rotated.refresh_token).not.toBe(first.refresh_token);
      expect(rotated.expires_in).toBe(21600);
      expect((await api('/athlete', rotated.access_token as string)).status).toBe(200);

      const stale = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string });
      expect(stale.status).toBe(400);
      expect(await json(stale)).toMatchObject({ errors: [{ resource: 'RefreshToken', code: 'invalid' }] });
    });

    it('should revoke tokens on deauthorize and answer with the token', async () => {
      const { token } = await athleteWithToken();
      const res = await fetch(`${base}/oauth/deauthorize`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual({ access_token: token });
      expect((await api('/athlete', token)).status).toBe(401);
    });
  });

  describe('activities', () => {
    it('should page the list with per_page and stop with an empty page, newest first', async () => {
      const { id, token } = await athleteWithToken();
      for (let i = 0; i < 5; i++) {
        await ctl.post('/strava/activities', {
          athlete: id,
          spec: { start: Date.UTC(2024, 0, 1 + i, 8), durationSeconds: 600 },
        });
      }
      const page1 = await json<Json[]>(await api('/athlete/activities?per_page=2&page=1', token));
      const page3 = await json<Json[]>(await api('/athlete/activities?per_page=2&page=3', token));
      const page4 = await json<Json[]>(await api('/athlete/activities?per_page=2&page=4', token));
      expect(page1.map((a) => a.start_date)).toEqual(['2024-01-05T08:00:00Z', '2024-01-04T08:00:00Z']);
      expect(page3).toHaveLength(1);
      expect(page4).toEqual([]);
      expect(page1[0]).toMatchObject({
        resource_state: 2,
        athlete: { id, resource_state: 1 },
        sport_type: 'Run',
        type: 'Run',
      });

      const before = await json<Json[]>(
        await api(`/athlete/activities?before=${Date.UTC(2024, 0, 3, 8) / 1000}`, token),
      );
      expect(before.map((a) => a.start_date)).toEqual(['2024-01-02T08:00:00Z', '2024-01-01T08:00:00Z']);
      const after = await json<Json[]>(await api(`/athlete/activities?after=${Date.UTC(2024, 0, 3, 8) / 1000}`, token));
      expect(after.map((a) => a.start_date)).toEqual(['2024-01-04T08:00:00Z', '2024-01-05T08:00:00Z']);
      const bad = await api('/athlete/activities?per_page=abc', token);
      expect(bad.status).toBe(400);
    });

    it('should clamp per_page to the maximum page size', async () => {
      const { id, token } = await athleteWithToken();
      await ctl.call('PATCH', '/settings', { strava: { maxPerPage: 3 } });
      for (let i = 0; i < 4; i++)
        await ctl.post('/strava/activities', { athlete: id, spec: { start: Date.UTC(2024, 1, 1 + i) } });
      const page = await json<Json[]>(await api('/athlete/activities?per_page=500', token));
      expect(page).toHaveLength(3);
      await ctl.call('PATCH', '/settings', { strava: { maxPerPage: 200 } });
    });

    it('should hide private activities from tokens without activity:read_all', async () => {
      const { id } = await athleteWithToken();
      await ctl.post('/strava/activities', { athlete: id, private: true, spec: { start: '2024-03-01T10:00:00Z' } });
      await ctl.post('/strava/activities', { athlete: id, spec: { start: '2024-03-02T10:00:00Z' } });
      const readOnly = (await ctl.post<Json>('/strava/tokens', { athlete: id, scope: 'activity:read' }))
        .access_token as string;
      const readAll = (await ctl.post<Json>('/strava/tokens', { athlete: id, scope: 'activity:read_all' }))
        .access_token as string;
      expect(await json<Json[]>(await api('/athlete/activities', readOnly))).toHaveLength(1);
      expect(await json<Json[]>(await api('/athlete/activities', readAll))).toHaveLength(2);
      const profileOnly = (await ctl.post<Json>('/strava/tokens', { athlete: id, scope: 'read' }))
        .access_token as string;
      const denied = await api('/athlete/activities', profileOnly);
      expect(denied.status).toBe(401);
      expect(await json(denied)).toEqual({
        message: 'Authorization Error',
        errors: [{ resource: 'AccessToken', field: 'activity:read_permission', code: 'missing' }],
      });
    });

    it('should report local start time with a Z suffix and the GMT-prefixed timezone', async () => {
      const { id, token } = await athleteWithToken();
      const created = await ctl.post<Json>('/strava/activities', {
        athlete: id,
        fixture: 'fit/garmin-fenix-5-run.fit',
      });
      const detail = await json(await api(`/activities/${String(created.id)}`, token));
      expect(detail).toMatchObject({
        resource_state: 3,
        start_date: '2017-06-11T14:34:09Z',
        start_date_local: '2017-06-11T07:34:09Z',
        timezone: '(GMT-07:00) America/Los_Angeles',
        utc_offset: -25200,
        sport_type: 'Run',
        manual: false,
      });
      expect(typeof detail.device_name).toBe('string');
      const missing = await api('/activities/1', token);
      expect(missing.status).toBe(404);
      expect(await json(missing)).toMatchObject({ message: 'Record Not Found' });
    });

    it('should serve streams keyed by type, as an array on the legacy path, and only distance without keys', async () => {
      const { id, token } = await athleteWithToken();
      const created = await ctl.post<Json>('/strava/activities', {
        athlete: id,
        fixture: 'fit/garmin-fenix-5-run.fit',
      });
      const keyed = await json<Record<string, Json>>(
        await api(
          `/activities/${String(created.id)}/streams?keys=time,latlng,heartrate,altitude&key_by_type=true`,
          token,
        ),
      );
      expect(Object.keys(keyed).sort()).toEqual(['altitude', 'heartrate', 'latlng', 'time']);
      const time = keyed.time as { data: number[]; original_size: number };
      expect(keyed.time).toMatchObject({ series_type: 'distance', resolution: 'high' });
      expect(time.data[0]).toBe(0);
      expect(time.original_size).toBe(time.data.length);
      expect((keyed.latlng as { data: number[][] }).data[0]).toHaveLength(2);
      expect((keyed.heartrate as { data: number[] }).data).toHaveLength(time.data.length);

      const defaults = await json<Record<string, unknown>>(
        await api(`/activities/${String(created.id)}/streams?key_by_type=true`, token),
      );
      expect(Object.keys(defaults)).toEqual(['distance']);
      const legacy = await json<Json[]>(
        await api(`/activities/${String(created.id)}/streams/time,watts,cadence`, token),
      );
      expect(Array.isArray(legacy)).toBe(true);
      expect(legacy.map((s) => s.type)).toEqual(['time', 'cadence']);
    });

    it('should create manual activities in the athlete zone and update them with PUT', async () => {
      const res = await ctl.post<{ athlete: Json; token: Json }>('/strava/athletes', {
        timezone: 'America/New_York',
        token: true,
      });
      const token = res.token.access_token as string;
      const created = await api('/activities', token, {
        method: 'POST',
        body: new URLSearchParams({
          name: 'Treadmill',
          sport_type: 'Run',
          start_date_local: '2024-01-15T07:00:00Z',
          elapsed_time: '1800',
          distance: '5000',
          trainer: '1',
        }),
      });
      expect(created.status).toBe(201);
      const activity = await json(created);
      expect(activity).toMatchObject({
        manual: true,
        trainer: true,
        distance: 5000,
        start_date: '2024-01-15T12:00:00Z',
        start_date_local: '2024-01-15T07:00:00Z',
        timezone: '(GMT-05:00) America/New_York',
      });
      expect(
        await json(await api(`/activities/${String(activity.id)}/streams?keys=time&key_by_type=true`, token)),
      ).toEqual({});

      const put = await api(`/activities/${String(activity.id)}`, token, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Renamed', sport_type: 'TrailRun', gear_id: 'none' }),
      });
      expect(await json(put)).toMatchObject({ name: 'Renamed', sport_type: 'TrailRun', type: 'Run', gear_id: null });
    });

    it('should answer 404 to DELETE unless enabled', async () => {
      const { id, token } = await athleteWithToken();
      const created = await ctl.post<Json>('/strava/activities', {
        athlete: id,
        spec: { start: '2024-03-01T10:00:00Z' },
      });
      expect((await api(`/activities/${String(created.id)}`, token, { method: 'DELETE' })).status).toBe(404);
    });
  });

  describe('uploads', () => {
    const upload = (
      token: string,
      file: Buffer,
      fields: Record<string, string>,
      filename = 'ride.fit',
    ): Promise<Response> => {
      const form = new FormData();
      form.set('file', new Blob([new Uint8Array(file)]), filename);
      for (const [k, v] of Object.entries(fields)) form.set(k, v);
      return api('/uploads', token, { method: 'POST', body: form });
    };

    it('should process asynchronously, append the extension to external_id and then flag duplicates', async () => {
      const { token } = await athleteWithToken();
      const bytes = fixture('fit/garmin-fenix-5-bike.fit');
      const res = await upload(token, bytes, { data_type: 'fit', external_id: 'hub-1', name: 'Bike' });
      expect(res.status).toBe(201);
      const created = await json(res);
      expect(created).toEqual({
        id: created.id,
        id_str: String(created.id),
        external_id: 'hub-1',
        error: null,
        status: 'Your activity is still being processed.',
        activity_id: null,
      });

      const poll1 = await json(await api(`/uploads/${String(created.id)}`, token));
      expect(poll1.status).toBe('Your activity is still being processed.');
      const poll2 = await json(await api(`/uploads/${String(created.id)}`, token));
      expect(poll2).toMatchObject({ status: 'Your activity is ready.', error: null, external_id: 'hub-1.fit' });
      const activity = await json(await api(`/activities/${String(poll2.activity_id)}`, token));
      expect(activity).toMatchObject({
        name: 'Bike',
        external_id: 'hub-1.fit',
        upload_id: created.id,
        sport_type: 'Ride',
      });

      const dup = await json(await upload(token, bytes, { data_type: 'fit' }, '17611540601.fit'));
      await api(`/uploads/${String(dup.id)}`, token);
      const dupDone = await json(await api(`/uploads/${String(dup.id)}`, token));
      expect(dupDone).toMatchObject({
        status: 'There was an error processing your activity.',
        activity_id: null,
        error: `17611540601.fit duplicate of activity ${String(poll2.activity_id)}`,
      });
    });

    it('should report the file name as external_id when none is sent and fail corrupt files', async () => {
      await ctl.call('PATCH', '/settings', { strava: { uploadProcessingPolls: 0 } });
      const { token } = await athleteWithToken();
      const tcx = await json(await upload(token, fixture('tcx/no_hr.tcx'), { data_type: 'tcx' }, '17611540601.tcx'));
      expect(await json(await api(`/uploads/${String(tcx.id)}`, token))).toMatchObject({
        external_id: '17611540601.tcx',
        status: 'Your activity is ready.',
      });

      const corrupt = await json(await upload(token, Buffer.from('not a fit file at all'), { data_type: 'fit' }));
      const done = await json(await api(`/uploads/${String(corrupt.id)}`, token));
      expect(done.status).toBe('There was an error processing your activity.');
      expect(done.error).toEqual(expect.any(String) as unknown);
      await ctl.call('PATCH', '/settings', { strava: { uploadProcessingPolls: 1 } });
    });

    it('should reject an unknown data_type and a token without activity:write', async () => {
      const { token } = await athleteWithToken();
      const bad = await upload(token, fixture('fit/garmin-fenix-5-bike.fit'), { data_type: 'kml' });
      expect(bad.status).toBe(400);
      const { token: readOnly } = await athleteWithToken(['activity:read_all']);
      const denied = await upload(readOnly, fixture('fit/garmin-fenix-5-bike.fit'), { data_type: 'fit' });
      expect(denied.status).toBe(401);
      expect(await json(denied)).toMatchObject({
        errors: [{ resource: 'AccessToken', field: 'activity:write_permission', code: 'missing' }],
      });
    });
  });

  describe('rate limits', () => {
    it('should send both bucket headers and 429 once the short window is spent', async () => {
      const { token } = await athleteWithToken();
      const ok = await api('/athlete', token);
      expect(ok.headers.get('x-ratelimit-limit')).toBe('200,2000');
      expect(ok.headers.get('x-ratelimit-usage')).toBe('1,1');
      expect(ok.headers.get('x-readratelimit-limit')).toBe('100,1000');
      expect(ok.headers.get('x-readratelimit-usage')).toBe('1,1');

      await fetch(`${sut.url}/_control/strava/rate-limit`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ read15: 100 }),
      });
      const limited = await api('/athlete', token);
      expect(limited.status).toBe(429);
      expect(await json(limited)).toEqual({
        message: 'Rate Limit Exceeded',
        errors: [{ resource: 'Application', field: 'rate limit', code: 'exceeded' }],
      });
      expect(limited.headers.get('x-readratelimit-usage')).toBe('101,2');
      expect(limited.headers.get('x-ratelimit-usage')).toBe('2,2');

      // Uploads only draw on the overall bucket.
      const form = new FormData();
      form.set('file', new Blob([new Uint8Array(fixture('fit/garmin-fenix-5-walk.fit'))]), 'walk.fit');
      form.set('data_type', 'fit');
      const up = await api('/uploads', token, { method: 'POST', body: form });
      expect(up.status).toBe(201);
      expect(up.headers.get('x-readratelimit-usage')).toBe('101,2');
      expect(up.headers.get('x-ratelimit-usage')).toBe('3,3');

      await ctl.post('/clock', { advanceSeconds: 900 });
      expect((await api('/athlete', token)).status).toBe(200);
    });

    it('should answer an injected rate-limit fault with the real headers', async () => {
      const { token } = await athleteWithToken();
      await ctl.post('/faults', { service: 'strava', kind: 'rate-limit', path: '/api/v3/athlete', times: 1 });
      const res = await api('/athlete', token);
      expect(res.status).toBe(429);
      expect(res.headers.get('x-ratelimit-usage')).toMatch(/^201,\d+$/);
      expect((await api('/athlete', token)).status).toBe(200);
    });
  });

  describe('push subscriptions', () => {
    it('should validate the callback, then deliver activity and deauthorization events', async () => {
      const hook = await startCallbackServer((req, res) => {
        const url = new URL(req.url, 'http://x');
        if (req.method === 'GET') {
          const ok = url.searchParams.get('hub.verify_token') === 'tok';
          res
            .writeHead(ok ? 200 : 403, { 'content-type': 'application/json' })
            .end(JSON.stringify({ 'hub.challenge': url.searchParams.get('hub.challenge') }));
          return;
        }
        res.writeHead(200).end();
      });
      try {
        const creds = { client_id: '12345', client_secret: 'sandbox-strava-secret' };
        const wrong = await fetch(`${base}/api/v3/push_subscriptions`, {
          method: 'POST',
          body: new URLSearchParams({ ...creds, callback_url: hook.url, verify_token: 'nope' }),
        });
        expect(wrong.status).toBe(400);
        const created = await fetch(`${base}/api/v3/push_subscriptions`, {
          method: 'POST',
          body: new URLSearchParams({ ...creds, callback_url: hook.url, verify_token: 'tok' }),
        });
        expect(created.status).toBe(201);
        const sub = await json(created);
        expect(sub).toMatchObject({ resource_state: 2, application_id: 12345, callback_url: hook.url });
        const listed = await json<Json[]>(
          await fetch(`${base}/api/v3/push_subscriptions?${new URLSearchParams(creds).toString()}`),
        );
        expect(listed).toHaveLength(1);

        const { id, token } = await athleteWithToken();
        const activity = await ctl.post<Json>('/strava/activities', {
          athlete: id,
          spec: { start: '2024-04-01T06:00:00Z' },
        });
        const createEvent = await hook.waitFor((r) => r.method === 'POST' && r.body.includes('"create"'));
        expect(JSON.parse(createEvent.body)).toEqual({
          aspect_type: 'create',
          event_time: expect.any(Number) as unknown,
          object_id: activity.id,
          object_type: 'activity',
          owner_id: id,
          subscription_id: sub.id,
          updates: {},
        });

        await fetch(`${base}/oauth/deauthorize`, {
          method: 'POST',
          body: new URLSearchParams({ access_token: token }),
        });
        const deauth = await hook.waitFor((r) => r.body.includes('authorized'));
        expect(JSON.parse(deauth.body)).toMatchObject({
          object_type: 'athlete',
          aspect_type: 'update',
          object_id: id,
          owner_id: id,
          updates: { authorized: 'false' },
        });

        const del = await fetch(
          `${base}/api/v3/push_subscriptions/${String(sub.id)}?${new URLSearchParams(creds).toString()}`,
          {
            method: 'DELETE',
          },
        );
        expect(del.status).toBe(204);
      } finally {
        await hook.close();
      }
    });

    it('should retry a failing callback up to three attempts when fired from the control API', async () => {
      let calls = 0;
      const hook = await startCallbackServer((_req, res) => {
        calls++;
        res.writeHead(calls < 3 ? 500 : 200).end();
      });
      try {
        const result = await ctl.post<{ delivered: boolean; attempts: unknown[] }>('/strava/events', {
          callbackUrl: hook.url,
          object_type: 'activity',
          object_id: 42,
          aspect_type: 'update',
          owner_id: 7,
          updates: { title: 'Renamed' },
        });
        expect(result.delivered).toBe(true);
        expect(result.attempts).toHaveLength(3);
      } finally {
        await hook.close();
      }
    });
  });
});
