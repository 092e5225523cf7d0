import { zipSync } from 'fflate';
import {
  AuthRevokedError,
  CaptchaRequiredError,
  DuplicateAtDestinationError,
  InvalidCredentialsError,
  MfaRequiredError,
  PermanentUpstreamError,
  RateLimitedError,
  RemoteNotFoundError,
  UploadConsentRequiredError,
  UploadStillProcessingError,
  UpstreamUnavailableError,
} from '../errors/connector.error';
import { HttpClient } from '../http/http-client';
import { UnlimitedRateLimiter } from '../rate-limit/rate-limiter';
import { fakeCodec, sampleActivity, testContext } from '../testing/connector-test.util';
import { FakeHttpServer } from '../testing/fake-http.server';
import { GarminConnector } from './garmin.connector';
import { garminTypeToActivityType, parseGarminGmt } from './garmin-types.util';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);
const session = { accessToken: 'di-1', refreshToken: 'dr-1', expiresAt: NOW + 3_600_000 };
const creds = { username: 'ada@example.com', password: 'pw', session };

const LIST_PATH = '/activitylist-service/activities/search/activities';

function listItem(id: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    activityId: id,
    activityName: `Run ${id}`,
    startTimeLocal: '2024-05-01 08:00:00',
    startTimeGMT: '2024-05-01 06:00:00',
    activityType: { typeId: 1, typeKey: 'trail_running', parentTypeId: 17 },
    distance: 10000.5,
    duration: 3600.2,
    elapsedDuration: 3700,
    manualActivity: false,
    hasPolyline: true,
    privacy: { typeId: 2, typeKey: 'private' },
    userRoles: ['ROLE_CONNECTUSER'],
    ...extra,
  };
}

describe(GarminConnector.name, () => {
  let server: FakeHttpServer;
  let sut: GarminConnector;

  beforeEach(async () => {
    server = await new FakeHttpServer().start();
    sut = new GarminConnector(
      { baseUrl: server.url, ssoUrl: `${server.url}/sso`, diAuthUrl: `${server.url}/di`, uploadPollScheduleMs: [1, 1] },
      {
        limiter: new UnlimitedRateLimiter(),
        codec: fakeCodec,
        now: () => NOW,
        sleep: () => Promise.resolve(),
        http: new HttpClient('garmin_connect', { timeoutMs: 1500 }),
      },
    );
  });

  afterEach(() => server.stop());

  function loginSucceeds(ticket = 'ST-1'): void {
    server.on('POST', '/sso/mobile/api/login', (req) => {
      expect(JSON.parse(req.text)).toMatchObject({ username: 'ada@example.com', password: 'pw' });
      expect(req.query.get('clientId')).toBe('GCM_ANDROID_DARK');
      return { json: { responseStatus: { type: 'SUCCESSFUL' }, serviceTicketId: ticket } };
    });
    server.on('POST', '/di/di-oauth2-service/oauth/token', (req) => {
      const form = new URLSearchParams(req.text);
      if (form.get('grant_type') === 'refresh_token') return { status: 400, json: { error: 'invalid_grant' } };
      expect(form.get('service_ticket')).toBe(ticket);
      expect(req.headers.authorization).toMatch(/^Basic /);
      return { json: { access_token: 'di-new', refresh_token: 'dr-new', expires_in: 3600 } };
    });
  }

  it('should log in with the mobile SSO and exchange the ticket for a DI token', async () => {
    loginSucceeds();
    const ok = await sut.authorize({ username: 'ada@example.com', password: 'pw' });
    expect(ok).toEqual({
      externalUserId: 'ada@example.com',
      credentials: {
        username: 'ada@example.com',
        password: 'pw',
        session: { accessToken: 'di-new', refreshToken: 'dr-new', expiresAt: NOW + 3_600_000 },
      },
      displayName: 'ada@example.com',
    });
  });

  it.each([
    [{ responseStatus: { type: 'INVALID_USERNAME_PASSWORD' } }, 200, InvalidCredentialsError],
    [{ responseStatus: { type: 'CAPTCHA_REQUIRED' } }, 200, CaptchaRequiredError],
    [{ error: { 'status-code': '429' } }, 200, RateLimitedError],
    [{}, 429, RateLimitedError],
    [{}, 403, CaptchaRequiredError],
    [{}, 503, UpstreamUnavailableError],
  ])('should map login answer %j (HTTP %i) to a typed error', async (json, status, type) => {
    server.on('POST', '/sso/mobile/api/login', { status, json });
    await expect(sut.authorize({ username: 'u', password: 'p' })).rejects.toBeInstanceOf(type);
  });

  it('should ask for an MFA code and finish the login with it', async () => {
    server.on('POST', '/sso/mobile/api/login', {
      json: { responseStatus: { type: 'MFA_REQUIRED' }, customerMfaInfo: { mfaLastMethodUsed: 'email' } },
      headers: { 'Set-Cookie': 'SESSION=abc; Path=/; HttpOnly' },
    });
    const err = (await sut.authorize({ username: 'u', password: 'p' }).catch((e: unknown) => e)) as MfaRequiredError;
    expect(err).toBeInstanceOf(MfaRequiredError);
    expect(err.intervention).toBe('mfa');
    server.on('POST', '/sso/mobile/api/mfa/verifyCode', (req) => {
      expect(req.headers.cookie).toBe('SESSION=abc');
      expect(JSON.parse(req.text)).toMatchObject({ mfaMethod: 'email', mfaVerificationCode: '123456' });
      return { json: { responseStatus: { type: 'SUCCESSFUL' }, serviceTicketId: 'ST-2' } };
    });
    server.on('POST', '/di/di-oauth2-service/oauth/token', { json: { access_token: 'di-m', expires_in: 60 } });
    const account = await sut.authorize({
      username: 'u',
      password: 'p',
      mfa: { code: '123456', session: err.session },
    });
    expect(account.credentials).toMatchObject({ session: { accessToken: 'di-m' } });
  });

  it('should reuse a valid session, and re-login (persisting it) when the API says 401', async () => {
    loginSucceeds();
    server.sequence('GET', LIST_PATH, [{ status: 401, body: '' }, { json: [listItem(1)] }]);
    const ctx = testContext(creds);
    const page = await sut.listActivities(ctx, { exhaustive: true });
    expect(page.activities).toHaveLength(1);
    const calls = server.calls('GET', LIST_PATH);
    expect(calls.map((c) => c.headers.authorization)).toEqual(['Bearer di-1', 'Bearer di-new']);
    expect(ctx.saved).toEqual([
      { ...creds, session: { accessToken: 'di-new', refreshToken: 'dr-new', expiresAt: NOW + 3_600_000 } },
    ]);
  });

  it('should refresh a session expiring within 15 minutes before logging in again', async () => {
    server.on('POST', '/di/di-oauth2-service/oauth/token', (req) => {
      expect(new URLSearchParams(req.text).get('refresh_token')).toBe('dr-1');
      return { json: { access_token: 'di-r', refresh_token: 'dr-2', expires_in: 3600 } };
    });
    server.on('GET', LIST_PATH, { json: [] });
    const ctx = testContext({ ...creds, session: { ...session, expiresAt: NOW + 60_000 } });
    await sut.listActivities(ctx, { exhaustive: true });
    expect(server.calls('POST', '/sso/mobile/api/login')).toHaveLength(0);
    expect(server.calls('GET', LIST_PATH)[0]!.headers.authorization).toBe('Bearer di-r');
  });

  it('should turn a stored password that stopped working into AuthRevokedError', async () => {
    server.on('POST', '/sso/mobile/api/login', { json: { responseStatus: { type: 'INVALID_USERNAME_PASSWORD' } } });
    const ctx = testContext({ username: 'u', password: 'old' });
    await expect(sut.listActivities(ctx, { exhaustive: true })).rejects.toBeInstanceOf(AuthRevokedError);
  });

  it('should page by offset until an empty page and map summaries', async () => {
    server.on('GET', LIST_PATH, (req) =>
      req.query.get('start') === '0' ? { json: [listItem(1), listItem(2, { manualActivity: true })] } : { json: [] },
    );
    const ctx = testContext(creds);
    const first = await sut.listActivities(ctx, { exhaustive: false, after: Date.UTC(2024, 4, 2, 3) });
    expect(server.requests[0]!.query.get('limit')).toBe('100');
    expect(server.requests[0]!.query.get('startDate')).toBe('2024-05-01');
    expect(first.cursor).toBe('2');
    expect(first.activities[0]).toEqual({
      remoteId: '1',
      start: Date.UTC(2024, 4, 1, 6),
      end: Date.UTC(2024, 4, 1, 6) + 3_700_000,
      type: 'trail_running',
      name: 'Run 1',
      notes: undefined,
      private: true,
      stationary: false,
      gps: true,
      distance: 10000.5,
      originalFormats: ['fit'],
      complete: true,
    });
    expect(first.activities[1]).toMatchObject({ stationary: true, gps: false, originalFormats: [] });
    const second = await sut.listActivities(ctx, { exhaustive: false, cursor: '2' });
    expect(server.requests[1]!.query.get('start')).toBe('2');
    expect(second.cursor).toBeUndefined();
  });

  it('should never accept demo data: re-login once, then fail retryably', async () => {
    loginSucceeds();
    const demo = [listItem(9, { userRoles: ['ROLE_SYSTEM'] })];
    server.sequence('GET', LIST_PATH, [{ json: demo }, { json: [listItem(1)] }]);
    const page = await sut.listActivities(testContext(creds), { exhaustive: true });
    expect(page.activities.map((a) => a.remoteId)).toEqual(['1']);
    expect(server.calls('POST', '/sso/mobile/api/login')).toHaveLength(1);

    server.on('GET', LIST_PATH, { json: demo });
    await expect(sut.listActivities(testContext(creds), { exhaustive: true })).rejects.toThrow(/demo data/);
  });

  it.each([
    [500, UpstreamUnavailableError],
    [503, UpstreamUnavailableError],
    [403, PermanentUpstreamError],
    [400, PermanentUpstreamError],
  ])('should map list HTTP %i to the right typed error', async (status, type) => {
    server.on('GET', LIST_PATH, { status, body: 'x' });
    await expect(sut.listActivities(testContext(creds), { exhaustive: true })).rejects.toBeInstanceOf(type);
  });

  it('should fail with RateLimitedError on a long 429', async () => {
    server.on('GET', LIST_PATH, { status: 429, body: '', headers: { 'Retry-After': '3600' } });
    await expect(sut.listActivities(testContext(creds), { exhaustive: true })).rejects.toMatchObject({
      code: 'rate_limited',
      retryAfterMs: 3_600_000,
    });
  });

  it('should download the original FIT from the ZIP and keep the list name and type', async () => {
    const inner = Buffer.from(
      JSON.stringify({ format: 'fit', activity: sampleActivity({ type: 'other', name: undefined }) }),
    );
    server.on('GET', '/download-service/files/activity/1', {
      body: zipSync({ '1_ACTIVITY.fit': new Uint8Array(inner) }),
    });
    const activity = await sut.downloadActivity(testContext(creds), {
      remoteId: '1',
      start: 0,
      type: 'trail_running',
      name: 'Run 1',
    });
    expect(activity).toMatchObject({ type: 'trail_running', name: 'Run 1' });
    expect(activity.original).toEqual({ format: 'fit', bytes: new Uint8Array(inner), name: '1_ACTIVITY.fit' });
  });

  it('should report a missing or corrupt original as typed errors', async () => {
    server.on('GET', '/download-service/files/activity/2', { status: 404, body: '' });
    await expect(
      sut.downloadActivity(testContext(creds), { remoteId: '2', start: 0, type: 'running' }),
    ).rejects.toBeInstanceOf(RemoteNotFoundError);
    server.on('GET', '/download-service/files/activity/3', { body: Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2]) });
    await expect(
      sut.downloadActivity(testContext(creds), { remoteId: '3', start: 0, type: 'running' }),
    ).rejects.toMatchObject({ code: 'upstream_corrupt' });
  });

  it('should upload FIT, poll the status until the activity id appears, then set the name', async () => {
    server.on('POST', '/upload-service/upload', (req) => {
      expect(req.text).toContain('filename="tributary_');
      expect(req.text).toContain('.fit"');
      return {
        status: 202,
        json: {
          detailedImportResult: {
            uploadId: 212157427938,
            uploadUuid: { uuid: '6e56a3b2-1111-2222-3333-444455556666' },
            creationDate: '2023-09-29 01:58:19.113 GMT',
            successes: [],
            failures: [],
          },
        },
      };
    });
    const statusPath = `/activity-service/activity/status/${Date.UTC(2023, 8, 29, 1, 58, 19, 113)}/6e56a3b2111122223333444455556666`;
    server.sequence('GET', statusPath, [
      { status: 202, json: { detailedImportResult: { successes: [], failures: [] } } },
      { status: 201, json: { detailedImportResult: { successes: [{ internalId: 9876543210, externalId: null }] } } },
    ]);
    server.on('PUT', '/activity-service/activity/9876543210', (req) => {
      expect(JSON.parse(req.text)).toEqual({ activityId: 9876543210, activityName: 'Morning run' });
      return { status: 204 };
    });
    const result = await sut.uploadActivity(testContext(creds), sampleActivity());
    expect(result).toEqual({ remoteId: '9876543210' });
    expect(server.errors).toEqual([]);
  });

  it('should map 409 to DuplicateAtDestinationError with the existing id, and 412 to upload consent', async () => {
    server.sequence('POST', '/upload-service/upload', [
      {
        status: 409,
        json: {
          detailedImportResult: {
            successes: [],
            failures: [
              { internalId: 555, externalId: null, messages: [{ code: 202, content: 'Duplicate Activity.' }] },
            ],
          },
        },
      },
      {
        status: 412,
        json: {
          detailedImportResult: {
            failures: [
              {
                messages: [
                  {
                    code: 0,
                    content: 'The user is from EU location, but upload consent is not yet granted or revoked',
                  },
                ],
              },
            ],
          },
        },
      },
      { status: 400, body: 'bad file' },
    ]);
    const dup = await sut.uploadActivity(testContext(creds), sampleActivity()).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(DuplicateAtDestinationError);
    expect((dup as DuplicateAtDestinationError).existingRemoteId).toBe('555');
    await expect(sut.uploadActivity(testContext(creds), sampleActivity())).rejects.toBeInstanceOf(
      UploadConsentRequiredError,
    );
    await expect(sut.uploadActivity(testContext(creds), sampleActivity())).rejects.toMatchObject({
      code: 'upstream_corrupt',
    });
  });

  it('should give up polling with UploadStillProcessingError and resume from it', async () => {
    server.on('POST', '/upload-service/upload', {
      status: 202,
      json: { detailedImportResult: { uploadUuid: { uuid: 'ab-cd' }, creationDate: '2024-01-01 00:00:00.000 GMT' } },
    });
    const statusPath = `/activity-service/activity/status/${Date.UTC(2024, 0, 1)}/abcd`;
    server.on('GET', statusPath, { status: 202, json: {} });
    const err = (await sut
      .uploadActivity(testContext(creds), sampleActivity({ name: undefined }))
      .catch((e: unknown) => e)) as UploadStillProcessingError;
    expect(err).toBeInstanceOf(UploadStillProcessingError);
    expect(server.calls('GET', statusPath)).toHaveLength(3);
    server.on('GET', statusPath, { json: { detailedImportResult: { successes: [{ internalId: 7 }] } } });
    await expect(
      sut.uploadActivity(testContext(creds), sampleActivity({ name: undefined }), { resumeUploadId: err.uploadId }),
    ).resolves.toEqual({ remoteId: '7' });
    expect(server.calls('POST', '/upload-service/upload')).toHaveLength(1);
  });

  it('should forget the session and password on revoke', async () => {
    const ctx = testContext(creds);
    await sut.revoke(ctx);
    expect(ctx.saved).toEqual([{ username: 'ada@example.com', password: '' }]);
  });
});

describe('garminTypeToActivityType', () => {
  it('should map known keys, suffixed variants and unknown keys', () => {
    expect(garminTypeToActivityType('road_biking')).toBe('road_cycling');
    expect(garminTypeToActivityType('lap_swimming')).toBe('pool_swimming');
    expect(garminTypeToActivityType('hiking_v2')).toBe('hiking');
    expect(garminTypeToActivityType('underwater_basket_weaving')).toBe('other');
  });
});

describe('parseGarminGmt', () => {
  it('should read zone-less GMT strings in both list and detail forms', () => {
    expect(parseGarminGmt('2024-05-01 06:00:00')).toBe(Date.UTC(2024, 4, 1, 6));
    expect(parseGarminGmt('2024-05-01T06:00:00.0')).toBe(Date.UTC(2024, 4, 1, 6));
    expect(parseGarminGmt('2023-09-29 01:58:19.113 GMT')).toBe(Date.UTC(2023, 8, 29, 1, 58, 19, 113));
    expect(parseGarminGmt('yesterday')).toBeUndefined();
  });
});
