import {
  AuthRevokedError,
  DuplicateAtDestinationError,
  PermanentUpstreamError,
  RateLimitedError,
  RemoteNotFoundError,
  UploadStillProcessingError,
  UpstreamUnavailableError,
  WebhookRejectedError,
} from '../errors/connector.error';
import { HttpClient } from '../http/http-client';
import { UnlimitedRateLimiter } from '../rate-limit/rate-limiter';
import { FakeHttpServer } from '../testing/fake-http.server';
import { fakeCodec, sampleActivity, testContext } from '../testing/connector-test.util';
import { StravaConnector, nextQuarterHour } from './strava.connector';
import { stravaTypeToActivityType } from './strava-types.util';

const NOW = Date.UTC(2024, 5, 1, 12, 5, 0);
const freshCreds = { accessToken: 'tok-a', refreshToken: 'ref-a', expiresAt: NOW / 1000 + 3600 };

describe(StravaConnector.name, () => {
  let server: FakeHttpServer;
  let limiter: UnlimitedRateLimiter;
  let sut: StravaConnector;

  beforeEach(async () => {
    server = await new FakeHttpServer().start();
    limiter = new UnlimitedRateLimiter();
    sut = new StravaConnector(
      {
        baseUrl: server.url,
        clientId: 'cid',
        clientSecret: 'csecret',
        webhookVerifyToken: 'vt',
        uploadPollScheduleMs: [1, 1, 1],
      },
      {
        limiter,
        codec: fakeCodec,
        now: () => NOW,
        sleep: () => Promise.resolve(),
        http: new HttpClient('strava', { timeoutMs: 1500 }),
      },
    );
  });

  afterEach(() => server.stop());

  it('should turn the OAuth token response into credentials and the athlete id', () => {
    const account = sut.completeOAuth('a', 'r', {
      expires_at: 1717243200,
      athlete: { id: 12345, firstname: 'Ada', lastname: 'L' },
      scope: 'read,activity:read_all,activity:write',
    });
    expect(account).toEqual({
      externalUserId: '12345',
      credentials: { accessToken: 'a', refreshToken: 'r', expiresAt: 1717243200 },
      displayName: 'Ada L',
    });
    expect(() => sut.completeOAuth('a', 'r', { athlete: { id: 1 }, scope: 'read' })).toThrow(PermanentUpstreamError);
  });

  it('should refresh a token expiring within 60 s and persist the rotated refresh token', async () => {
    server.on('POST', '/oauth/token', (req) => {
      const form = new URLSearchParams(req.text);
      expect(form.get('grant_type')).toBe('refresh_token');
      expect(form.get('refresh_token')).toBe('ref-a');
      expect(form.get('client_secret')).toBe('csecret');
      return { json: { access_token: 'tok-b', refresh_token: 'ref-b', expires_at: NOW / 1000 + 21600 } };
    });
    server.on('GET', '/api/v3/athlete/activities', { json: [] });
    const ctx = testContext({ ...freshCreds, expiresAt: NOW / 1000 + 59 });
    await sut.listActivities(ctx, { exhaustive: true });
    expect(ctx.saved).toEqual([{ accessToken: 'tok-b', refreshToken: 'ref-b', expiresAt: NOW / 1000 + 21600 }]);
    expect(server.calls('GET', '/api/v3/athlete/activities')[0]!.headers.authorization).toBe('Bearer tok-b');
  });

  it('should not refresh a token valid for more than 60 s', async () => {
    server.on('GET', '/api/v3/athlete/activities', { json: [] });
    const ctx = testContext({ ...freshCreds, expiresAt: NOW / 1000 + 61 });
    await sut.listActivities(ctx, { exhaustive: true });
    expect(server.calls('POST', '/oauth/token')).toHaveLength(0);
    expect(ctx.saved).toHaveLength(0);
  });

  it('should report a rejected refresh token as revoked authorization', async () => {
    server.on('POST', '/oauth/token', {
      status: 400,
      json: { message: 'Bad Request', errors: [{ resource: 'RefreshToken', field: 'refresh_token', code: 'invalid' }] },
    });
    const ctx = testContext({ ...freshCreds, expiresAt: NOW / 1000 - 10 });
    await expect(sut.listActivities(ctx, { exhaustive: true })).rejects.toBeInstanceOf(AuthRevokedError);
  });

  it('should page with per_page=200 until an empty page and map summaries', async () => {
    server.on('GET', '/api/v3/athlete/activities', (req) => {
      const page = req.query.get('page');
      if (page === '1') {
        return {
          body:
            '[{"id":12345678901234567,"name":"Gravel","sport_type":"GravelRide","type":"Ride",' +
            '"start_date":"2024-05-01T06:00:00Z","start_date_local":"2024-05-01T08:00:00Z",' +
            '"timezone":"(GMT+01:00) Europe/Berlin","elapsed_time":3600,"distance":30000.5,"manual":false,' +
            '"trainer":false,"private":true,"start_latlng":[52.5,13.4],"external_id":"garmin_push_1"}]',
          headers: { 'content-type': 'application/json' },
        };
      }
      return { json: [] };
    });
    const ctx = testContext(freshCreds);
    const first = await sut.listActivities(ctx, { exhaustive: false, after: Date.UTC(2024, 0, 1) });
    const req = server.requests[0]!;
    expect(req.query.get('per_page')).toBe('200');
    expect(req.query.get('after')).toBe(String(Date.UTC(2024, 0, 1) / 1000));
    expect(first.cursor).toBe('2');
    expect(first.activities).toEqual([
      {
        remoteId: '12345678901234567',
        start: Date.UTC(2024, 4, 1, 6),
        end: Date.UTC(2024, 4, 1, 7),
        timezone: 'Europe/Berlin',
        type: 'gravel_cycling',
        name: 'Gravel',
        private: true,
        stationary: false,
        gps: true,
        trainer: false,
        distance: 30000.5,
        externalIds: ['garmin_push_1'],
        originalFormats: [],
        complete: true,
      },
    ]);
    const second = await sut.listActivities(ctx, { exhaustive: false, cursor: first.cursor });
    expect(server.requests[1]!.query.get('page')).toBe('2');
    expect(second.cursor).toBeUndefined();
  });

  it('should list everything without `after` when exhaustive', async () => {
    server.on('GET', '/api/v3/athlete/activities', { json: [] });
    await sut.listActivities(testContext(freshCreds), { exhaustive: true, after: 123456 });
    expect(server.requests[0]!.query.has('after')).toBe(false);
  });

  it.each([
    [401, { message: 'Authorization Error' }, AuthRevokedError],
    [403, { message: 'Forbidden' }, PermanentUpstreamError],
    [400, { message: 'Bad Request' }, PermanentUpstreamError],
    [500, { message: 'boom' }, UpstreamUnavailableError],
    [502, 'Bad gateway', UpstreamUnavailableError],
    [503, '', UpstreamUnavailableError],
  ])('should map HTTP %i to the right typed error', async (status, body, type) => {
    server.on(
      'GET',
      '/api/v3/athlete/activities',
      typeof body === 'string' ? { status, body } : { status, json: body },
    );
    await expect(sut.listActivities(testContext(freshCreds), { exhaustive: true })).rejects.toBeInstanceOf(type);
  });

  it('should map a timeout and a dropped connection to UpstreamUnavailableError', async () => {
    server.on('GET', '/api/v3/athlete/activities', { delayMs: 3000, json: [] });
    await expect(sut.listActivities(testContext(freshCreds), { exhaustive: true })).rejects.toThrow(/timed out/);
    server.on('GET', '/api/v3/athlete/activities', { drop: true });
    await expect(sut.listActivities(testContext(freshCreds), { exhaustive: true })).rejects.toBeInstanceOf(
      UpstreamUnavailableError,
    );
  });

  it('should block the shared budget until the next quarter hour on 429 and fail with RateLimitedError', async () => {
    server.on('GET', '/api/v3/athlete/activities', {
      status: 429,
      json: { message: 'Rate Limit Exceeded' },
      headers: { 'X-RateLimit-Limit': '200,2000', 'X-RateLimit-Usage': '201,500' },
    });
    const err = await sut.listActivities(testContext(freshCreds), { exhaustive: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(nextQuarterHour(NOW) - NOW);
    expect((err as RateLimitedError).scope).toBe('global');
    expect(limiter.blocked[0]).toEqual({
      keys: ['strava:15m', 'strava:day', 'strava:read:15m', 'strava:read:day'],
      delayMs: 10 * 60_000,
    });
    // A long wait is not retried in-process: one request only.
    expect(server.requests).toHaveLength(1);
  });

  it('should block until UTC midnight when the daily budget is spent', async () => {
    server.on('GET', '/api/v3/athlete/activities', {
      status: 429,
      json: { message: 'Rate Limit Exceeded' },
      headers: { 'X-RateLimit-Limit': '200,2000', 'X-RateLimit-Usage': '20,2000' },
    });
    const err = (await sut.listActivities(testContext(freshCreds), { exhaustive: true }).catch((e: unknown) => e)) as
      RateLimitedError | undefined;
    expect(err?.retryAfterMs).toBe(Date.UTC(2024, 5, 2) - NOW);
  });

  it('should feed the usage headers of every response into the shared budget', async () => {
    server.on('GET', '/api/v3/athlete/activities', {
      json: [],
      headers: {
        'X-RateLimit-Limit': '200,2000',
        'X-RateLimit-Usage': '79,222',
        'X-ReadRateLimit-Limit': '100,1000',
        'X-ReadRateLimit-Usage': '78,221',
      },
    });
    await sut.listActivities(testContext(freshCreds), { exhaustive: true });
    expect(limiter.observed.map((o) => [o.key, o.remaining])).toEqual([
      ['strava:15m', 121],
      ['strava:day', 1778],
      ['strava:read:15m', 22],
      ['strava:read:day', 779],
    ]);
    expect(limiter.acquired[0]).toEqual(['strava:15m', 'strava:day', 'strava:read:15m', 'strava:read:day']);
  });

  it('should build an activity from the detail and its streams', async () => {
    server.on('GET', '/api/v3/activities/42', {
      json: {
        id: 42,
        name: 'Trail',
        sport_type: 'TrailRun',
        start_date: '2024-05-01T06:00:00Z',
        start_date_local: '2024-05-01T08:00:00Z',
        timezone: '(GMT+01:00) Europe/Berlin',
        elapsed_time: 30,
        moving_time: 20,
        distance: 100,
        manual: false,
        average_heartrate: 140,
        max_heartrate: 150,
        total_elevation_gain: 5,
        calories: 12,
        description: 'notes',
        device_name: 'Garmin fenix',
        start_latlng: [52.5, 13.4],
      },
    });
    server.on('GET', '/api/v3/activities/42/streams', (req) => {
      expect(req.query.get('key_by_type')).toBe('true');
      expect(req.query.get('keys')).toContain('latlng');
      return {
        json: {
          time: { data: [0, 10, 20, 30] },
          latlng: {
            data: [
              [52.5, 13.4],
              [52.5001, 13.4001],
              [52.5002, 13.4002],
              [52.5003, 13.4003],
            ],
          },
          heartrate: { data: [120, 130, 140, 150] },
          cadence: { data: [80, 82, 0, 84] },
          moving: { data: [true, true, false, true] },
          altitude: { data: [30.5, 31, 31, 32] },
        },
      };
    });
    const activity = await sut.downloadActivity(testContext(freshCreds), {
      remoteId: '42',
      start: 0,
      type: 'running',
    });
    const start = Date.UTC(2024, 4, 1, 6);
    expect(activity).toMatchObject({
      start,
      end: start + 30_000,
      timezone: 'Europe/Berlin',
      type: 'trail_running',
      name: 'Trail',
      notes: 'notes',
      gps: true,
      stationary: false,
      device: { name: 'Garmin fenix' },
      stats: { distance: 100, elapsedTime: 30, movingTime: 20, energy: 12, heartRate: { avg: 140, max: 150 } },
    });
    expect(activity.samples).toEqual([
      { time: start, lat: 52.5, lon: 13.4, altitude: 30.5, heartRate: 120, runCadence: 160, marker: 'start' },
      { time: start + 10_000, lat: 52.5001, lon: 13.4001, altitude: 31, heartRate: 130, runCadence: 164 },
      {
        time: start + 20_000,
        lat: 52.5002,
        lon: 13.4002,
        altitude: 31,
        heartRate: 140,
        runCadence: 0,
        marker: 'pause',
      },
      {
        time: start + 30_000,
        lat: 52.5003,
        lon: 13.4003,
        altitude: 32,
        heartRate: 150,
        runCadence: 168,
        marker: 'resume',
      },
    ]);
    expect(activity.laps).toHaveLength(1);
  });

  it('should skip streams for manual activities and map a missing activity to RemoteNotFoundError', async () => {
    server.on('GET', '/api/v3/activities/7', {
      json: { id: 7, sport_type: 'Yoga', start_date: '2024-05-01T06:00:00Z', elapsed_time: 600, manual: true },
    });
    const manual = await sut.downloadActivity(testContext(freshCreds), { remoteId: '7', start: 0, type: 'yoga' });
    expect(manual).toMatchObject({ stationary: true, gps: false, samples: [], type: 'yoga' });
    expect(server.calls('GET', '/api/v3/activities/7/streams')).toHaveLength(0);
    server.on('GET', '/api/v3/activities/8', {
      status: 404,
      json: { message: 'Record Not Found', errors: [{ resource: 'Activity', field: 'id', code: 'invalid' }] },
    });
    await expect(
      sut.downloadActivity(testContext(freshCreds), { remoteId: '8', start: 0, type: 'yoga' }),
    ).rejects.toBeInstanceOf(RemoteNotFoundError);
  });

  it('should keep an activity whose streams are missing', async () => {
    server.on('GET', '/api/v3/activities/9', {
      json: {
        id: 9,
        sport_type: 'Ride',
        start_date: '2024-05-01T06:00:00Z',
        elapsed_time: 600,
        manual: false,
        distance: 5,
      },
    });
    server.on('GET', '/api/v3/activities/9/streams', { status: 404, json: { message: 'Record Not Found' } });
    const activity = await sut.downloadActivity(testContext(freshCreds), { remoteId: '9', start: 0, type: 'cycling' });
    expect(activity).toMatchObject({ type: 'cycling', samples: [], stats: { distance: 5 } });
  });

  it('should upload the original FIT bytes with external_id and poll until the activity is ready', async () => {
    const bytes = new Uint8Array([14, 16, 1, 2, 3]);
    server.on('POST', '/api/v3/uploads', (req) => {
      expect(req.headers['content-type']).toMatch(/^multipart\/form-data/);
      expect(req.text).toContain('name="data_type"\r\n\r\nfit');
      expect(req.text).toContain('name="external_id"\r\n\r\next-1');
      expect(req.text).toContain('filename="ext-1.fit"');
      expect(req.body.includes(Buffer.from(bytes))).toBe(true);
      return {
        status: 201,
        body: '{"id":8919698041,"id_str":"8919698041","external_id":null,"error":null,"status":"Your activity is still being processed.","activity_id":null}',
      };
    });
    server.sequence('GET', '/api/v3/uploads/8919698041', [
      { json: { id: 8919698041, error: null, status: 'Your activity is still being processed.', activity_id: null } },
      { json: { id: 8919698041, error: null, status: 'Your activity is ready.', activity_id: 98765432109 } },
    ]);
    const activity = sampleActivity({ original: { format: 'fit', bytes } });
    const result = await sut.uploadActivity(testContext(freshCreds), activity, { externalId: 'ext-1' });
    expect(result).toEqual({ remoteId: '98765432109' });
    expect(server.calls('GET', '/api/v3/uploads/8919698041')).toHaveLength(2);
  });

  it('should encode to FIT when the original format is not accepted', async () => {
    fakeCodec.encoded.length = 0;
    server.on('POST', '/api/v3/uploads', { status: 201, json: { id: 5, error: null, activity_id: 6 } });
    const activity = sampleActivity({ original: { format: 'pwx', bytes: new Uint8Array([1]) } });
    await expect(sut.uploadActivity(testContext(freshCreds), activity)).resolves.toEqual({ remoteId: '6' });
    expect(fakeCodec.encoded).toEqual(['fit']);
    expect(server.requests[0]!.text).toContain('name="data_type"\r\n\r\nfit');
  });

  it('should report "duplicate of activity N" as DuplicateAtDestinationError with N', async () => {
    server.on('POST', '/api/v3/uploads', { status: 201, json: { id: 5, error: null, activity_id: null } });
    server.on('GET', '/api/v3/uploads/5', {
      json: {
        id: 5,
        status: 'There was an error processing your activity.',
        error: '17611540601.fit duplicate of activity 8319193780',
        activity_id: null,
      },
    });
    const err = await sut.uploadActivity(testContext(freshCreds), sampleActivity()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateAtDestinationError);
    expect((err as DuplicateAtDestinationError).existingRemoteId).toBe('8319193780');
  });

  it('should report other processing errors as permanent', async () => {
    server.on('POST', '/api/v3/uploads', {
      status: 201,
      json: { id: 5, error: 'Improperly formatted data.', status: 'There was an error processing your activity.' },
    });
    await expect(sut.uploadActivity(testContext(freshCreds), sampleActivity())).rejects.toMatchObject({
      code: 'upstream_corrupt',
    });
  });

  it('should stop polling after the schedule and resume later without uploading again', async () => {
    server.on('POST', '/api/v3/uploads', { status: 201, json: { id: 5, id_str: '5', error: null, activity_id: null } });
    server.on('GET', '/api/v3/uploads/5', { json: { id: 5, error: null, activity_id: null } });
    const err = await sut
      .uploadActivity(testContext(freshCreds), sampleActivity(), { externalId: 'x' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UploadStillProcessingError);
    expect(err).toMatchObject({ uploadId: '5', externalId: 'x', retryable: true });
    expect(server.calls('GET', '/api/v3/uploads/5')).toHaveLength(4);
    server.on('GET', '/api/v3/uploads/5', { json: { id: 5, error: null, activity_id: 77 } });
    await expect(
      sut.uploadActivity(testContext(freshCreds), sampleActivity(), { resumeUploadId: '5' }),
    ).resolves.toEqual({ remoteId: '77' });
    expect(server.calls('POST', '/api/v3/uploads')).toHaveLength(1);
  });

  it('should create stationary activities as manual entries with local start time', async () => {
    server.on('POST', '/api/v3/activities', (req) => {
      const form = new URLSearchParams(req.text);
      expect(form.get('sport_type')).toBe('Yoga');
      expect(form.get('start_date_local')).toBe('2024-05-01T08:00:00');
      expect(form.get('elapsed_time')).toBe('1800');
      return { status: 201, json: { id: 99, manual: true } };
    });
    const start = Date.UTC(2024, 4, 1, 6);
    const activity = sampleActivity({ type: 'yoga', stationary: true, samples: [], start, end: start + 1_800_000 });
    await expect(sut.uploadActivity(testContext(freshCreds), activity)).resolves.toEqual({ remoteId: '99' });
  });

  it('should deauthorize, treating an already revoked token as done', async () => {
    server.sequence('POST', '/oauth/deauthorize', [{ json: { access_token: 'tok-a' } }, { status: 401, json: {} }]);
    await sut.revoke(testContext(freshCreds));
    await sut.revoke(testContext(freshCreds));
    expect(server.calls('POST', '/oauth/deauthorize')[0]!.headers.authorization).toBe('Bearer tok-a');
  });

  it('should refresh an expired token before deauthorizing, and treat a dead refresh token as already revoked', async () => {
    server.on('POST', '/oauth/token', {
      json: { access_token: 'tok-z', refresh_token: 'ref-z', expires_at: NOW / 1000 + 21600 },
    });
    server.on('POST', '/oauth/deauthorize', { json: {} });
    await sut.revoke(testContext({ ...freshCreds, expiresAt: NOW / 1000 - 100 }));
    expect(server.calls('POST', '/oauth/deauthorize')[0]!.headers.authorization).toBe('Bearer tok-z');
    server.on('POST', '/oauth/token', { status: 400, json: { message: 'Bad Request' } });
    await expect(sut.revoke(testContext({ ...freshCreds, expiresAt: NOW / 1000 - 100 }))).resolves.toBeUndefined();
    expect(server.calls('POST', '/oauth/deauthorize')).toHaveLength(1);
  });

  it('should echo hub.challenge only with the right verify token', () => {
    expect(
      sut.verifySubscription({ 'hub.mode': 'subscribe', 'hub.challenge': 'c1', 'hub.verify_token': 'vt' }),
    ).toEqual({ status: 200, contentType: 'application/json', body: '{"hub.challenge":"c1"}' });
    expect(() =>
      sut.verifySubscription({ 'hub.mode': 'subscribe', 'hub.challenge': 'c1', 'hub.verify_token': 'nope' }),
    ).toThrow(WebhookRejectedError);
  });

  it('should parse activity events and deauthorization', () => {
    const event = (o: object) => JSON.stringify({ subscription_id: 1, event_time: 1, updates: {}, ...o });
    expect(
      sut.parseWebhook(
        {},
        '{"object_type":"activity","object_id":12345678901234567,"aspect_type":"create","owner_id":7,"updates":{}}',
      ),
    ).toEqual([{ externalUserId: '7', kind: 'activity_created', objectId: '12345678901234567' }]);
    expect(
      sut.parseWebhook({}, event({ object_type: 'activity', object_id: 1, aspect_type: 'delete', owner_id: 7 })),
    ).toEqual([{ externalUserId: '7', kind: 'activity_deleted', objectId: '1' }]);
    expect(
      sut.parseWebhook(
        {},
        event({
          object_type: 'athlete',
          object_id: 7,
          aspect_type: 'update',
          owner_id: 7,
          updates: { authorized: 'false' },
        }),
      ),
    ).toEqual([{ externalUserId: '7', kind: 'deauthorized' }]);
    expect(() => sut.parseWebhook({}, 'not json')).toThrow(WebhookRejectedError);
  });
});

describe('stravaTypeToActivityType', () => {
  it('should prefer sport_type, fall back to type, and map unknown values to other', () => {
    expect(stravaTypeToActivityType('MountainBikeRide', 'Ride')).toBe('mountain_biking');
    expect(stravaTypeToActivityType('EBikeRide')).toBe('e_biking');
    expect(stravaTypeToActivityType('VirtualRide')).toBe('virtual_ride');
    expect(stravaTypeToActivityType('Brandnew', 'Run')).toBe('running');
    expect(stravaTypeToActivityType('Brandnew')).toBe('other');
  });
});
