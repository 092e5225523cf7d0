import { createHmac } from 'node:crypto';
import {
  AccountFullError,
  ActivityNotAcceptedError,
  AuthRevokedError,
  DuplicateAtDestinationError,
  PermanentUpstreamError,
  RateLimitedError,
  RemoteNotFoundError,
  UpstreamUnavailableError,
  WebhookRejectedError,
} from '../errors/connector.error';
import { HttpClient } from '../http/http-client';
import { UnlimitedRateLimiter } from '../rate-limit/rate-limiter';
import { fakeCodec, sampleActivity, testContext } from '../testing/connector-test.util';
import { FakeHttpServer } from '../testing/fake-http.server';
import { DropboxConnector, headerSafeJson } from './dropbox.connector';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);
const creds = { accessToken: 'sl.a', refreshToken: 'r1', expiresAt: NOW / 1000 + 3600 };

function fileEntry(path: string): Record<string, unknown> {
  return {
    '.tag': 'file',
    name: path.split('/').pop(),
    path_display: path,
    path_lower: path.toLowerCase(),
    id: `id:${path.length}`,
    rev: '1',
    size: 10,
    content_hash: 'abc',
  };
}

describe(DropboxConnector.name, () => {
  let server: FakeHttpServer;
  let limiter: UnlimitedRateLimiter;
  let sut: DropboxConnector;

  beforeEach(async () => {
    server = await new FakeHttpServer().start();
    limiter = new UnlimitedRateLimiter();
    sut = new DropboxConnector(
      {
        apiUrl: server.url,
        contentUrl: `${server.url}/content`,
        notifyUrl: `${server.url}/notify`,
        clientId: 'key',
        clientSecret: 'secret',
      },
      { limiter, codec: fakeCodec, now: () => NOW, http: new HttpClient('dropbox', { timeoutMs: 1500 }) },
    );
  });

  afterEach(() => server.stop());

  it('should ask for offline tokens and store account_id with the refresh token', () => {
    expect(sut.auth).toMatchObject({ kind: 'oauth2', authorizationParams: { token_access_type: 'offline' } });
    expect(sut.completeOAuth('sl.x', 'r', { account_id: 'dbid:1', expires_in: 14400 })).toEqual({
      externalUserId: 'dbid:1',
      credentials: { accessToken: 'sl.x', refreshToken: 'r', expiresAt: NOW / 1000 + 14400 },
    });
    expect(() => sut.completeOAuth('sl.x', undefined, { account_id: 'dbid:1' })).toThrow(PermanentUpstreamError);
  });

  it('should list the folder recursively, page with continue and hand back the delta cursor as checkpoint', async () => {
    server.on('POST', '/2/files/list_folder', (req) => {
      expect(JSON.parse(req.text)).toMatchObject({ path: '/Activities', recursive: true });
      return {
        json: {
          entries: [
            fileEntry('/Activities/runs/2024-05-01_08-00-00_Morning_Run.fit'),
            fileEntry('/Activities/notes.txt'),
            { '.tag': 'folder', name: 'runs', path_display: '/Activities/runs' },
          ],
          cursor: 'c1',
          has_more: true,
        },
      };
    });
    server.on('POST', '/2/files/list_folder/continue', (req) => {
      expect(JSON.parse(req.text)).toEqual({ cursor: 'c1' });
      return {
        json: {
          entries: [{ '.tag': 'deleted', name: 'x.fit', path_display: '/x.fit' }],
          cursor: 'c2',
          has_more: false,
        },
      };
    });
    const ctx = testContext(creds, { folder: 'Activities' });
    const first = await sut.listActivities(ctx, { exhaustive: true });
    expect(first.activities).toEqual([
      {
        remoteId: '/Activities/runs/2024-05-01_08-00-00_Morning_Run.fit',
        start: Date.UTC(2024, 4, 1, 8),
        naive: true,
        type: 'running',
        externalIds: [`id:${'/Activities/runs/2024-05-01_08-00-00_Morning_Run.fit'.length}`, 'abc'],
        originalFormats: ['fit'],
      },
    ]);
    expect(first.cursor).toBe('c1');
    expect(first.checkpoint).toBeUndefined();
    const second = await sut.listActivities(ctx, { exhaustive: true, cursor: first.cursor });
    expect(second).toEqual({ activities: [], exclusions: [], cursor: undefined, checkpoint: { cursor: 'c2' } });
  });

  it('should continue from the stored cursor on partial syncs and restart when Dropbox says reset', async () => {
    server.on('POST', '/2/files/list_folder/continue', {
      status: 409,
      json: { error_summary: 'reset/..', error: { '.tag': 'reset' } },
    });
    server.on('POST', '/2/files/list_folder', { json: { entries: [], cursor: 'fresh', has_more: false } });
    const page = await sut.listActivities(testContext(creds, { cursor: 'old' }), { exhaustive: false });
    expect(server.calls('POST', '/2/files/list_folder/continue')).toHaveLength(1);
    expect(page.checkpoint).toEqual({ cursor: 'fresh' });
  });

  it('should read start and type from files with foreign names, and exclude untagged or corrupt ones', async () => {
    const good = { format: 'gpx', activity: sampleActivity({ type: 'cycling' }) };
    server.on('POST', '/2/files/list_folder', {
      json: {
        entries: [fileEntry('/export.gpx'), fileEntry('/broken.tcx'), fileEntry('/Runtastic/ride.gpx')],
        cursor: 'c',
        has_more: false,
      },
    });
    server.on('POST', '/content/2/files/download', (req) => {
      const arg = JSON.parse(String(req.headers['dropbox-api-arg'])) as { path: string };
      return arg.path === '/broken.tcx' ? { body: 'not json' } : { body: JSON.stringify(good) };
    });
    const page = await sut.listActivities(testContext(creds), { exhaustive: true });
    expect(page.activities.map((a) => [a.remoteId, a.type, a.start])).toEqual([
      ['/export.gpx', 'cycling', good.activity.start],
      ['/Runtastic/ride.gpx', 'cycling', good.activity.start],
    ]);
    expect(page.exclusions).toEqual([
      {
        remoteId: '/broken.tcx',
        reason: 'corrupt',
        message: expect.stringMatching(/not an encoded/) as unknown,
        permanent: true,
      },
    ]);
  });

  it('should skip untagged files when configured to', async () => {
    server.on('POST', '/2/files/list_folder', {
      json: {
        entries: [fileEntry('/2024-05-01_08-00-00_x.fit'), fileEntry('/swim/2024-05-02_08-00-00_y.fit')],
        cursor: 'c',
        has_more: false,
      },
    });
    const page = await sut.listActivities(testContext(creds, { untagged: 'skip' }), { exhaustive: true });
    expect(page.activities.map((a) => a.type)).toEqual(['swimming']);
    expect(page.exclusions).toEqual([
      {
        remoteId: '/2024-05-01_08-00-00_x.fit',
        reason: 'untagged',
        message: expect.any(String) as unknown,
        permanent: true,
      },
    ]);
  });

  it('should refresh an expired access token once and retry', async () => {
    server.sequence('POST', '/2/files/list_folder', [
      { status: 401, json: { error_summary: 'expired_access_token/', error: { '.tag': 'expired_access_token' } } },
      { json: { entries: [], cursor: 'c', has_more: false } },
    ]);
    server.on('POST', '/oauth2/token', (req) => {
      expect(new URLSearchParams(req.text).get('refresh_token')).toBe('r1');
      return { json: { access_token: 'sl.b', token_type: 'bearer', expires_in: 14400 } };
    });
    const ctx = testContext(creds);
    await sut.listActivities(ctx, { exhaustive: true });
    expect(ctx.saved).toEqual([{ accessToken: 'sl.b', refreshToken: 'r1', expiresAt: NOW / 1000 + 14400 }]);
    expect(server.calls('POST', '/2/files/list_folder')[1]!.headers.authorization).toBe('Bearer sl.b');
  });

  it.each([
    [401, { error_summary: 'invalid_access_token/..', error: { '.tag': 'invalid_access_token' } }, AuthRevokedError],
    [400, 'Error in call to API function "files/list_folder": bad', PermanentUpstreamError],
    [403, { error_summary: 'no_permission/' }, PermanentUpstreamError],
    [409, { error_summary: 'path/malformed_path/..', error: { '.tag': 'path' } }, PermanentUpstreamError],
    [500, '', UpstreamUnavailableError],
    [503, 'busy', UpstreamUnavailableError],
  ])('should map list_folder HTTP %i to the right typed error', async (status, body, type) => {
    server.on('POST', '/2/files/list_folder', typeof body === 'string' ? { status, body } : { status, json: body });
    await expect(sut.listActivities(testContext(creds), { exhaustive: true })).rejects.toBeInstanceOf(type);
  });

  it('should list nothing while the folder does not exist yet', async () => {
    server.on('POST', '/2/files/list_folder', {
      status: 409,
      json: { error_summary: 'path/not_found/...', error: { '.tag': 'path', path: { '.tag': 'not_found' } } },
    });
    await expect(sut.listActivities(testContext(creds), { exhaustive: true })).resolves.toEqual({
      activities: [],
      exclusions: [],
    });
  });

  it('should report a rejected refresh token as revoked', async () => {
    server.on('POST', '/oauth2/token', { status: 400, json: { error: 'invalid_grant' } });
    await expect(
      sut.listActivities(testContext({ ...creds, expiresAt: NOW / 1000 }), { exhaustive: true }),
    ).rejects.toBeInstanceOf(AuthRevokedError);
  });

  it('should wait out a short retry_after and retry the request', async () => {
    server.sequence('POST', '/2/files/list_folder', [
      {
        status: 429,
        json: {
          error_summary: 'too_many_requests/..',
          error: { reason: { '.tag': 'too_many_requests' }, retry_after: 1 },
        },
      },
      { json: { entries: [], cursor: 'c', has_more: false } },
    ]);
    await sut.listActivities(testContext(creds), { exhaustive: true });
    expect(limiter.blocked).toEqual([{ keys: ['dropbox:user:conn-1'], delayMs: 1000 }]);
    expect(server.calls('POST', '/2/files/list_folder')).toHaveLength(2);
  });

  it('should fail with a per-user RateLimitedError when retry_after is long, using Retry-After for non-JSON bodies', async () => {
    server.on('POST', '/2/files/list_folder', { status: 429, body: 'slow down', headers: { 'Retry-After': '300' } });
    const err = await sut.listActivities(testContext(creds), { exhaustive: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err).toMatchObject({ retryAfterMs: 300_000, scope: 'user' });
    expect(server.calls('POST', '/2/files/list_folder')).toHaveLength(1);
  });

  it('should download with the path in Dropbox-API-Arg, keep the original bytes and let the path tag win', async () => {
    const payload = JSON.stringify({ format: 'tcx', activity: sampleActivity({ type: 'other' }) });
    server.on('POST', '/content/2/files/download', (req) => {
      expect(req.headers['dropbox-api-arg']).toBe('{"path":"/hike/d\\u00e9part.tcx"}');
      return { body: payload };
    });
    const activity = await sut.downloadActivity(testContext(creds), {
      remoteId: '/hike/départ.tcx',
      start: 0,
      type: 'other',
    });
    expect(activity.type).toBe('hiking');
    expect(activity.original).toEqual({
      format: 'tcx',
      bytes: new Uint8Array(Buffer.from(payload)),
      name: 'départ.tcx',
    });
  });

  it('should map a missing file to RemoteNotFoundError', async () => {
    server.on('POST', '/content/2/files/download', {
      status: 409,
      json: { error_summary: 'path/not_found/..', error: { '.tag': 'path', path: { '.tag': 'not_found' } } },
    });
    await expect(
      sut.downloadActivity(testContext(creds), { remoteId: '/gone.fit', start: 0, type: 'other' }),
    ).rejects.toBeInstanceOf(RemoteNotFoundError);
  });

  it('should upload FIT by default under the name template without overwriting', async () => {
    fakeCodec.encoded.length = 0;
    server.on('POST', '/content/2/files/upload', (req) => {
      const arg = JSON.parse(String(req.headers['dropbox-api-arg'])) as Record<string, unknown>;
      expect(arg).toEqual({
        path: '/Sync/2024-05-01_08-00-00_Morning_run_Run.fit',
        mode: 'add',
        autorename: false,
        mute: true,
      });
      expect(req.headers['content-type']).toBe('application/octet-stream');
      return { json: { path_display: arg.path, id: 'id:1', rev: '1' } };
    });
    const result = await sut.uploadActivity(testContext(creds, { folder: '/Sync' }), sampleActivity());
    expect(result).toEqual({ remoteId: '/Sync/2024-05-01_08-00-00_Morning_run_Run.fit' });
    expect(fakeCodec.encoded).toEqual(['fit']);
  });

  it('should pass original bytes through when they are in the configured format', async () => {
    fakeCodec.encoded.length = 0;
    const bytes = new Uint8Array([60, 103, 112, 120]);
    server.on('POST', '/content/2/files/upload', (req) => {
      expect(Buffer.compare(req.body, Buffer.from(bytes))).toBe(0);
      return { json: { path_display: '/a.gpx' } };
    });
    await sut.uploadActivity(
      testContext(creds, { format: 'gpx' }),
      sampleActivity({ original: { format: 'gpx', bytes } }),
    );
    expect(fakeCodec.encoded).toEqual([]);
  });

  it('should treat a conflicting file as a duplicate, a full account as AccountFullError, and refuse stationary', async () => {
    server.sequence('POST', '/content/2/files/upload', [
      { status: 409, json: { error_summary: 'path/conflict/file/..', error: { '.tag': 'path' } } },
      { status: 409, json: { error_summary: 'path/insufficient_space/...', error: { '.tag': 'path' } } },
    ]);
    await expect(sut.uploadActivity(testContext(creds), sampleActivity())).rejects.toBeInstanceOf(
      DuplicateAtDestinationError,
    );
    await expect(sut.uploadActivity(testContext(creds), sampleActivity())).rejects.toBeInstanceOf(AccountFullError);
    await expect(
      sut.uploadActivity(testContext(creds), sampleActivity({ stationary: true, samples: [] })),
    ).rejects.toBeInstanceOf(ActivityNotAcceptedError);
  });

  it('should revoke the token', async () => {
    server.on('POST', '/2/auth/token/revoke', { json: null });
    await sut.revoke(testContext(creds));
    expect(server.requests[0]!.headers.authorization).toBe('Bearer sl.a');
  });

  it('should long-poll the notify host without an auth header', async () => {
    server.on('POST', '/notify/2/files/list_folder/longpoll', (req) => {
      expect(req.headers.authorization).toBeUndefined();
      expect(JSON.parse(req.text)).toEqual({ cursor: 'c9', timeout: 30 });
      return { json: { changes: true, backoff: 5 } };
    });
    await expect(sut.waitForChanges(testContext(creds, { cursor: 'c9' }))).resolves.toEqual({
      changes: true,
      backoffMs: 5000,
    });
  });

  it('should echo the challenge and verify webhook signatures', () => {
    expect(sut.verifySubscription({ challenge: 'abc' })).toMatchObject({
      status: 200,
      body: 'abc',
      contentType: 'text/plain',
    });
    const body = JSON.stringify({ list_folder: { accounts: ['dbid:1', 'dbid:2'] }, delta: { users: [1, 2] } });
    const sig = createHmac('sha256', 'secret').update(body).digest('hex');
    expect(sut.parseWebhook({ 'X-Dropbox-Signature': sig }, body)).toEqual([
      { externalUserId: 'dbid:1', kind: 'changed' },
      { externalUserId: 'dbid:2', kind: 'changed' },
    ]);
    expect(() => sut.parseWebhook({ 'X-Dropbox-Signature': sig }, `${body} `)).toThrow(WebhookRejectedError);
    expect(() => sut.parseWebhook({}, body)).toThrow(WebhookRejectedError);
  });

  it('should reject folders that try to climb out', async () => {
    await expect(sut.validateConfig({ folder: '/a/../b' })).rejects.toThrow(/plain path/);
    await expect(sut.validateConfig({ folder: 'Activities/', format: 'tcx' })).resolves.toMatchObject({
      folder: '/Activities',
      format: 'tcx',
    });
  });
});

describe('headerSafeJson', () => {
  it('should escape non-ASCII characters', () => {
    expect(headerSafeJson({ path: '/ü/😀' })).toBe('{"path":"/\\u00fc/\\ud83d\\ude00"}');
  });
});
