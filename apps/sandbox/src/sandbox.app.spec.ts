import { resolve } from 'node:path';
import { startSandbox, type SandboxHandle } from './sandbox.app';
import { control, json } from './testing/sandbox-test.util';

const FIXTURES = resolve(__dirname, '../../../../shared/fixtures');

type Json = Record<string, unknown>;

describe('startSandbox', () => {
  let sut: SandboxHandle;
  let ctl: ReturnType<typeof control>;
  let token: string;
  let athleteId: number;

  beforeAll(async () => {
    sut = await startSandbox({ port: 0, fixturesDir: FIXTURES });
    ctl = control(sut.url);
  });

  afterAll(async () => {
    await sut.close();
  });

  beforeEach(async () => {
    await ctl.post('/reset');
    const res = await ctl.post<{ athlete: Json; token: Json }>('/strava/athletes', { token: true });
    token = res.token.access_token as string;
    athleteId = res.athlete.id as number;
  });

  const athlete = (headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> =>
    fetch(`${sut.urls.strava}/api/v3/athlete`, { headers: { authorization: `Bearer ${token}`, ...headers }, signal });

  it('should serve every simulator under its prefix on one port', async () => {
    const index = await json<{ prefixes: Record<string, string> }>(await fetch(sut.url));
    expect(index.prefixes).toMatchObject({
      strava: '/strava',
      garmin: '/garmin',
      garminSso: '/garmin-sso',
      dropboxApi: '/dropbox-api',
      dropboxContent: '/dropbox-content',
      dropboxNotify: '/dropbox-notify',
    });
    expect(sut.urls.dropboxNotify).toBe(`${sut.url}/dropbox-notify`);
  });

  describe('faults', () => {
    it('should inject a 5xx for a number of matching requests only', async () => {
      const fault = await ctl.post<Json>('/faults', {
        service: 'strava',
        method: 'GET',
        path: '/api/v3/athlete',
        kind: 'status',
        status: 503,
        body: { message: 'down' },
        times: 2,
      });
      expect((await athlete()).status).toBe(503);
      const second = await athlete();
      expect(await json(second)).toEqual({ message: 'down' });
      expect((await athlete()).status).toBe(200);
      const listed = await ctl.get<Json[]>('/faults');
      expect(listed[0]).toMatchObject({ id: fault.id, hits: 2 });
    });

    it('should start a fault after N requests and scope it to an account', async () => {
      await ctl.post('/faults', {
        service: 'strava',
        kind: 'status',
        status: 500,
        after: 1,
        account: String(athleteId),
      });
      expect((await athlete()).status).toBe(200);
      expect((await athlete()).status).toBe(500);
      const other = await ctl.post<{ token: Json }>('/strava/athletes', { token: true });
      const res = await fetch(`${sut.urls.strava}/api/v3/athlete`, {
        headers: { authorization: `Bearer ${other.token.access_token as string}` },
      });
      expect(res.status).toBe(200);
    });

    it('should delay responses with latency and match paths by regular expression', async () => {
      await ctl.post('/faults', { service: 'strava', path: '/^\\/api\\/v3\\/ath/', kind: 'latency', ms: 150 });
      const started = Date.now();
      expect((await athlete()).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });

    it('should hang until the client gives up and log the request with status 0', async () => {
      await ctl.post('/faults', { service: 'strava', kind: 'hang', times: 1 });
      await expect(athlete({}, AbortSignal.timeout(200))).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 50));
      const log = await ctl.get<{ requests: Json[] }>('/requests?service=strava');
      expect(log.requests.at(-1)).toMatchObject({ status: 0, fault: expect.any(String) as unknown });
      expect((await athlete()).status).toBe(200);
    });

    it('should drop the connection', async () => {
      await ctl.post('/faults', { service: 'strava', kind: 'drop', times: 1 });
      await expect(athlete()).rejects.toThrow();
    });

    it('should refuse malformed fault specs and remove faults by id', async () => {
      expect((await ctl.call('POST', '/faults', { kind: 'explode' })).status).toBe(400);
      expect((await ctl.call('POST', '/faults', { kind: 'status' })).status).toBe(400);
      const fault = await ctl.post<Json>('/faults', { service: 'garmin', kind: 'status', status: 502 });
      expect((await ctl.call('DELETE', `/faults/${String(fault.id)}`)).status).toBe(204);
      expect((await ctl.call('DELETE', `/faults/${String(fault.id)}`)).status).toBe(404);
    });
  });

  describe('request log', () => {
    it('should record every simulator request with route, status and account, and count them', async () => {
      await athlete();
      await athlete();
      await fetch(`${sut.urls.strava}/api/v3/athlete/activities?per_page=5`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await fetch(`${sut.urls.strava}/api/v3/athlete`);
      const all = await ctl.get<{ total: number; counts: Record<string, number>; requests: Json[] }>(
        '/requests?service=strava',
      );
      expect(all.total).toBe(4);
      expect(all.counts).toEqual({ 'strava GET /api/v3/athlete': 3, 'strava GET /api/v3/athlete/activities': 1 });
      expect(all.requests[2]).toMatchObject({
        service: 'strava',
        mount: 'strava',
        method: 'GET',
        path: '/api/v3/athlete/activities',
        query: 'per_page=5',
        status: 200,
        account: String(athleteId),
      });
      const unauthorized = await ctl.get<{ total: number }>('/requests?status=401');
      expect(unauthorized.total).toBe(1);
      const mine = await ctl.get<{ total: number }>(`/requests?account=${athleteId}&path=/api/v3/athlete`);
      expect(mine.total).toBe(2);
      expect((await ctl.call('DELETE', '/requests')).status).toBe(204);
      expect((await ctl.get<{ total: number }>('/requests')).total).toBe(0);
    });
  });

  describe('control API', () => {
    it('should validate settings patches', async () => {
      expect((await ctl.call('PATCH', '/settings', { strava: { uploadProcessingPolls: 'many' } })).status).toBe(400);
      const ok = await json<{ garmin: Json }>(
        await ctl.call('PATCH', '/settings', { garmin: { duplicateDetection: false } }),
      );
      expect(ok.garmin.duplicateDetection).toBe(false);
      await ctl.call('PATCH', '/settings', { garmin: { duplicateDetection: true } });
    });

    it('should answer 404 for unknown accounts and fixtures and 400 for missing sources', async () => {
      expect(
        (await ctl.call('POST', '/strava/activities', { athlete: 999, spec: { start: '2024-01-01T00:00:00Z' } }))
          .status,
      ).toBe(404);
      expect((await ctl.call('POST', '/strava/activities', { athlete: athleteId, fixture: 'nope.fit' })).status).toBe(
        404,
      );
      expect(
        (await ctl.call('POST', '/strava/activities', { athlete: athleteId, fixture: '../../etc/passwd' })).status,
      ).toBe(400);
      expect((await ctl.call('POST', '/strava/activities', { athlete: athleteId })).status).toBe(400);
    });

    it('should create activities from uploaded bytes and list what each simulator holds', async () => {
      const gpx = `<?xml version="1.0"?><gpx version="1.1" creator="t"><trk><trkseg>
<trkpt lat="45.0" lon="7.0"><time>2024-06-01T10:00:00Z</time></trkpt>
<trkpt lat="45.001" lon="7.0"><time>2024-06-01T10:01:00Z</time></trkpt></trkseg></trk></gpx>`;
      const created = await ctl.post<Json>('/strava/activities', {
        athlete: athleteId,
        file: { base64: Buffer.from(gpx).toString('base64'), name: 'a.gpx' },
      });
      expect(created).toMatchObject({ start_date: '2024-06-01T10:00:00Z', timezone: '(GMT+02:00) Europe/Rome' });
      await ctl.post('/garmin/accounts', { username: 'g', password: 'p' });
      await ctl.post('/garmin/activities', {
        username: 'g',
        spec: { start: '2024-06-02T10:00:00Z' },
        name: 'From spec',
      });
      const account = await ctl.post<Json>('/dropbox/accounts', {});
      await ctl.post('/dropbox/files', {
        account: account.accountId,
        path: '/Run/a.tcx',
        spec: { start: '2024-06-03T10:00:00Z' },
      });
      const state = await ctl.get<Json>('/state');
      expect(state).toMatchObject({
        strava: { athletes: 1, activities: 1 },
        garmin: { accounts: 1, activities: 1 },
        dropbox: { accounts: 1, files: 1 },
      });
      expect(await ctl.get<Json[]>('/garmin/activities')).toEqual([
        expect.objectContaining({ activityName: 'From spec', fileFormat: 'fit' }),
      ]);
      const files = await ctl.get<Json[]>(`/dropbox/files?account=${String(account.accountId)}`);
      expect(files.map((f) => f.path_display)).toEqual(['/Run', '/Run/a.tcx']);
    });
  });
});

describe('startSandbox with seed', () => {
  it('should create the demo accounts and activities from the fixtures', async () => {
    const sut = await startSandbox({ port: 0, seed: true, fixturesDir: FIXTURES });
    try {
      expect(sut.seed?.strava.activities).toBe(3);
      const list = await fetch(`${sut.urls.strava}/api/v3/athlete/activities`, {
        headers: { authorization: `Bearer ${sut.seed?.strava.accessToken as string}` },
      });
      expect(await json<unknown[]>(list)).toHaveLength(3);
      const garmin = await control(sut.url).get<Json[]>('/garmin/activities?username=demo@example.com');
      expect(garmin).toHaveLength(2);
      const dropbox = await control(sut.url).get<Json[]>(
        `/dropbox/files?account=${sut.seed?.dropbox.accountId as string}`,
      );
      expect(dropbox.filter((f) => f['.tag'] === 'file')).toHaveLength(2);
    } finally {
      await sut.close();
    }
  });

  it('should fail clearly when an explicit fixtures directory is missing', async () => {
    await expect(startSandbox({ port: 0, seed: true, fixturesDir: '/nonexistent/fixtures' })).rejects.toThrow(
      /does not exist/,
    );
  });
});
