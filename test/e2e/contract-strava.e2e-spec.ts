import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  AuthRevokedError,
  type ConnectorContext,
  DuplicateAtDestinationError,
  HttpClient,
  type JsonObject,
  type WebhookEvent,
  WebhookRejectedError,
  RateLimitedError,
  StravaConnector,
  UnlimitedRateLimiter,
  UploadStillProcessingError,
  UpstreamUnavailableError,
  formatsCodec,
} from '@tributary/connectors';
import { type SandboxHandle, startSandbox } from '../../apps/sandbox/src';

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures');
const CLIENT = { clientId: 'contract-app', clientSecret: 'contract-secret' };

async function control(sb: SandboxHandle, method: string, route: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${sb.urls.control}${route}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new TypeError(`control ${method} ${route}: ${res.status} ${text}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

function context(credentials: JsonObject): ConnectorContext & { saved: JsonObject[] } {
  const saved: JsonObject[] = [];
  const ctx: ConnectorContext & { saved: JsonObject[] } = {
    connectionId: 'contract',
    credentials,
    config: {},
    saved,
    saveCredentials: (next) => {
      saved.push(next);
      return Promise.resolve();
    },
  };
  return ctx;
}

describe('Strava connector against the Strava simulator', () => {
  let sb: SandboxHandle;
  let sut: StravaConnector;
  let athleteId: string;
  let ctx: ConnectorContext & { saved: JsonObject[] };

  beforeAll(async () => {
    sb = await startSandbox({ port: 0, strava: { ...CLIENT, uploadProcessingPolls: 1, webhookRetryDelayMs: 10 } });
  });
  afterAll(() => sb.close());

  beforeEach(async () => {
    await control(sb, 'POST', '/reset');
    const created = (await control(sb, 'POST', '/strava/athletes', {
      firstname: 'Contract',
      token: {},
      timezone: 'Europe/Berlin',
    })) as { athlete: { id: number }; token: { access_token: string; refresh_token: string; expires_at: number } };
    athleteId = String(created.athlete.id);
    ctx = context({
      accessToken: created.token.access_token,
      refreshToken: created.token.refresh_token,
      expiresAt: created.token.expires_at,
    });
    sut = new StravaConnector(
      { baseUrl: sb.urls.strava, ...CLIENT, webhookVerifyToken: 'verify-me', uploadPollScheduleMs: [20, 40, 80] },
      { limiter: new UnlimitedRateLimiter(), codec: formatsCodec, http: new HttpClient('strava', { timeoutMs: 2000 }) },
    );
  });

  const fixture = (name: string) => new Uint8Array(readFileSync(path.join(FIXTURES, name)));

  async function listAll() {
    const all = [];
    let cursor: string | undefined;
    do {
      const page = await sut.listActivities(ctx, { exhaustive: true, cursor });
      all.push(...page.activities);
      cursor = page.cursor;
    } while (cursor !== undefined);
    return all;
  }

  it('should run the whole lifecycle: list, download, upload, duplicate, revoke', async () => {
    await control(sb, 'POST', '/strava/activities', { athlete: athleteId, fixture: 'fit/garmin-fenix-5-run.fit' });
    const listed = await listAll();
    expect(listed).toHaveLength(1);
    const summary = listed[0]!;
    expect(summary).toMatchObject({ type: expect.stringMatching(/running/) as unknown, complete: true });

    const downloaded = await sut.downloadActivity(ctx, summary);
    expect(downloaded.samples.length).toBeGreaterThan(10);
    expect(downloaded.gps).toBe(true);
    expect(downloaded.start).toBe(summary.start);

    const bytes = fixture('fit/garmin-fenix-5-bike.fit');
    const activity = { ...formatsCodec.decodeActivity(bytes, 'fit'), original: { format: 'fit' as const, bytes } };
    const uploaded = await sut.uploadActivity(ctx, activity, { externalId: 'tributary-contract-1' });
    expect(uploaded.remoteId).toMatch(/^\d+$/);
    const afterUpload = await listAll();
    expect(afterUpload.map((a) => a.remoteId)).toContain(uploaded.remoteId);

    const again = await sut
      .uploadActivity(ctx, activity, { externalId: 'tributary-contract-1' })
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(DuplicateAtDestinationError);
    expect((again as DuplicateAtDestinationError).existingRemoteId).toBe(uploaded.remoteId);
    expect(await listAll()).toHaveLength(2);

    await sut.revoke(ctx);
    await expect(sut.listActivities(ctx, { exhaustive: true })).rejects.toBeInstanceOf(AuthRevokedError);
  });

  it('should refresh an expired token and persist the rotated refresh token', async () => {
    await control(sb, 'POST', '/strava/tokens/expire', { athlete: athleteId });
    (ctx.credentials as JsonObject).expiresAt = Math.floor(Date.now() / 1000) - 10;
    const before = ctx.credentials.refreshToken;
    await sut.listActivities(ctx, { exhaustive: true });
    expect(ctx.saved).toHaveLength(1);
    expect(ctx.saved[0]!.refreshToken).not.toBe(before);
    await expect(sut.listActivities(ctx, { exhaustive: true })).resolves.toBeDefined();
  });

  it('should map an injected 429 to RateLimitedError and a 503 to UpstreamUnavailableError', async () => {
    await control(sb, 'POST', '/faults', { service: 'strava', kind: 'rate-limit', times: 1 });
    await expect(sut.listActivities(ctx, { exhaustive: true })).rejects.toBeInstanceOf(RateLimitedError);
    await control(sb, 'POST', '/faults', { service: 'strava', kind: 'status', status: 503, times: 1 });
    await expect(sut.listActivities(ctx, { exhaustive: true })).rejects.toBeInstanceOf(UpstreamUnavailableError);
    await expect(sut.listActivities(ctx, { exhaustive: true })).resolves.toBeDefined();
  });

  it('should turn a hanging request into a retryable timeout', async () => {
    const quick = new StravaConnector(
      { baseUrl: sb.urls.strava, ...CLIENT },
      { limiter: new UnlimitedRateLimiter(), codec: formatsCodec, http: new HttpClient('strava', { timeoutMs: 300 }) },
    );
    await control(sb, 'POST', '/faults', { service: 'strava', kind: 'hang', times: 1 });
    await expect(quick.listActivities(ctx, { exhaustive: true })).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });

  it('should report a revocation done at Strava as AuthRevokedError', async () => {
    await control(sb, 'POST', '/strava/revoke', { athlete: athleteId });
    await expect(sut.listActivities(ctx, { exhaustive: true })).rejects.toBeInstanceOf(AuthRevokedError);
  });

  it('should resume a slow upload by its id without uploading twice', async () => {
    await sb.close();
    sb = await startSandbox({ port: 0, strava: { ...CLIENT, uploadProcessingPolls: 10 } });
    const created = (await control(sb, 'POST', '/strava/athletes', { token: {} })) as {
      token: { access_token: string; refresh_token: string; expires_at: number };
    };
    ctx = context({
      accessToken: created.token.access_token,
      refreshToken: created.token.refresh_token,
      expiresAt: created.token.expires_at,
    });
    sut = new StravaConnector(
      { baseUrl: sb.urls.strava, ...CLIENT, uploadPollScheduleMs: [10, 10] },
      { limiter: new UnlimitedRateLimiter(), codec: formatsCodec },
    );
    const bytes = fixture('fit/garmin-fenix-5-walk.fit');
    const activity = { ...formatsCodec.decodeActivity(bytes, 'fit'), original: { format: 'fit' as const, bytes } };
    const err = (await sut.uploadActivity(ctx, activity).catch((e: unknown) => e)) as UploadStillProcessingError;
    expect(err).toBeInstanceOf(UploadStillProcessingError);
    const resumeSut = new StravaConnector(
      { baseUrl: sb.urls.strava, ...CLIENT, uploadPollScheduleMs: [10, 10, 10, 10, 10, 10, 10, 10] },
      { limiter: new UnlimitedRateLimiter(), codec: formatsCodec },
    );
    const done = await resumeSut.uploadActivity(ctx, activity, { resumeUploadId: err.uploadId });
    expect(done.remoteId).toMatch(/^\d+$/);
    const uploads = (await control(sb, 'GET', '/strava/uploads')) as unknown[];
    expect(uploads).toHaveLength(1);
  });

  it('should answer the subscription handshake and parse pushed events', async () => {
    const events: WebhookEvent[] = [];
    const hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://hook');
        try {
          if (req.method === 'GET') {
            const answer = sut.verifySubscription(Object.fromEntries(url.searchParams));
            res.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.body);
          } else {
            events.push(...sut.parseWebhook(req.headers, Buffer.concat(chunks)));
            res.writeHead(200).end();
          }
        } catch (err) {
          res.writeHead(err instanceof WebhookRejectedError ? 403 : 500).end();
        }
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    try {
      const callbackUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/webhooks/strava`;
      const subscribe = (verifyToken: string) =>
        fetch(`${sb.urls.strava}/api/v3/push_subscriptions`, {
          method: 'POST',
          body: new URLSearchParams({
            ...{ client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret },
            callback_url: callbackUrl,
            verify_token: verifyToken,
          }),
        });
      expect((await subscribe('wrong')).status).toBeGreaterThanOrEqual(400);
      expect((await subscribe('verify-me')).status).toBe(201);
      const created = (await control(sb, 'POST', '/strava/activities', {
        athlete: athleteId,
        fixture: 'fit/garmin-fenix-5-run.fit',
      })) as { id: number };
      await control(sb, 'POST', '/settle');
      await control(sb, 'POST', '/strava/revoke', { athlete: athleteId, notify: true });
      await control(sb, 'POST', '/settle');
      expect(events).toEqual([
        { externalUserId: athleteId, kind: 'activity_created', objectId: String(created.id) },
        { externalUserId: athleteId, kind: 'deauthorized' },
      ]);
    } finally {
      hook.closeAllConnections();
      await new Promise<void>((resolve) => hook.close(() => resolve()));
    }
  });
});
