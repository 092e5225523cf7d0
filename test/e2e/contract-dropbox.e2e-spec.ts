import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  AccountFullError,
  AuthRevokedError,
  type ConnectorContext,
  DropboxConnector,
  DuplicateAtDestinationError,
  type JsonObject,
  RateLimitedError,
  UnlimitedRateLimiter,
  UpstreamUnavailableError,
  type WebhookEvent,
  formatsCodec,
} from '@tributary/connectors';
import { type SandboxHandle, startSandbox } from '../../apps/sandbox/src';

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures');
const CLIENT = { clientId: 'contract-key', clientSecret: 'contract-secret' };

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

type TestContext = ConnectorContext & { saved: JsonObject[]; config: JsonObject };

function fixtureActivity(name: string) {
  const bytes = new Uint8Array(readFileSync(path.join(FIXTURES, name)));
  return { ...formatsCodec.decodeActivity(bytes, 'fit'), original: { format: 'fit' as const, bytes } };
}

describe('Dropbox connector against the Dropbox simulator', () => {
  let sb: SandboxHandle;
  let sut: DropboxConnector;
  let accountId: string;
  let ctx: TestContext;

  beforeAll(async () => {
    sb = await startSandbox({ port: 0, dropbox: { ...CLIENT, webhookDebounceMs: 10, webhookRetryDelayMs: 10 } });
  });
  afterAll(() => sb.close());

  beforeEach(async () => {
    await control(sb, 'POST', '/reset');
    const account = (await control(sb, 'POST', '/dropbox/accounts', { token: { offline: true } })) as {
      accountId?: string;
      account_id?: string;
      token: { access_token: string; refresh_token: string; expires_at: number };
    };
    accountId = account.accountId ?? account.account_id ?? '';
    const saved: JsonObject[] = [];
    ctx = {
      connectionId: 'contract',
      externalUserId: accountId,
      credentials: {
        accessToken: account.token.access_token,
        refreshToken: account.token.refresh_token,
        expiresAt: account.token.expires_at,
      },
      config: { folder: '/Tributary' },
      saved,
      saveCredentials: (next) => {
        saved.push(next);
        return Promise.resolve();
      },
    };
    sut = new DropboxConnector(
      {
        apiUrl: sb.urls.dropboxApi,
        contentUrl: sb.urls.dropboxContent,
        notifyUrl: sb.urls.dropboxNotify,
        authorizeUrl: `${sb.urls.dropboxWww}/oauth2/authorize`,
        ...CLIENT,
      },
      { limiter: new UnlimitedRateLimiter(), codec: formatsCodec },
    );
  });

  async function listAll(exhaustive: boolean) {
    const all = [];
    let cursor: string | undefined;
    let checkpoint: JsonObject | undefined;
    do {
      const page = await sut.listActivities(ctx, { exhaustive, cursor });
      all.push(...page.activities);
      cursor = page.cursor;
      checkpoint = page.checkpoint ?? checkpoint;
    } while (cursor !== undefined);
    return { all, checkpoint };
  }

  it('should run the whole lifecycle: list, download, upload, delta listing, duplicate, revoke', async () => {
    await control(sb, 'POST', '/dropbox/files', {
      account: accountId,
      path: '/Tributary/runs/morning.fit',
      fixture: 'fit/garmin-fenix-5-run.fit',
    });
    await control(sb, 'POST', '/dropbox/files', {
      account: accountId,
      path: '/Elsewhere/other.fit',
      fixture: 'fit/garmin-fenix-5-bike.fit',
    });
    const first = await listAll(true);
    expect(first.all.map((a) => [a.remoteId, a.type])).toEqual([['/Tributary/runs/morning.fit', 'running']]);
    expect(first.checkpoint?.cursor).toEqual(expect.any(String));
    ctx.config = { ...ctx.config, ...first.checkpoint };

    const downloaded = await sut.downloadActivity(ctx, first.all[0]!);
    expect(downloaded.original?.format).toBe('fit');
    expect(downloaded.samples.length).toBeGreaterThan(10);

    const bike = fixtureActivity('fit/garmin-fenix-5-bike.fit');
    const uploaded = await sut.uploadActivity(ctx, bike);
    expect(uploaded.remoteId).toMatch(/^\/Tributary\/\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}_.*\.fit$/);

    const delta = await listAll(false);
    expect(delta.all.map((a) => a.remoteId)).toEqual([uploaded.remoteId]);
    expect(delta.all[0]!.naive).toBe(true);

    // Identical bytes again: Dropbox writes nothing and we get the same file back.
    await expect(sut.uploadActivity(ctx, bike)).resolves.toEqual(uploaded);
    // Different bytes under the same name: never overwritten.
    const changed = { ...bike, original: undefined, notes: 'edited' };
    await expect(sut.uploadActivity(ctx, changed)).rejects.toBeInstanceOf(DuplicateAtDestinationError);
    const files = (await control(sb, 'GET', `/dropbox/files?account=${encodeURIComponent(accountId)}`)) as unknown[];
    expect(files.filter((f) => JSON.stringify(f).includes('.fit'))).toHaveLength(3);

    await sut.revoke(ctx);
    await expect(sut.listActivities(ctx, { exhaustive: true })).rejects.toBeInstanceOf(AuthRevokedError);
  });

  it('should refresh an expired access token and keep the refresh token', async () => {
    await control(sb, 'POST', '/dropbox/tokens/expire', { account: accountId });
    await sut.listActivities(ctx, { exhaustive: true });
    expect(ctx.saved).toHaveLength(1);
    expect(ctx.saved[0]!.refreshToken).toBe(ctx.credentials.refreshToken);
  });

  it('should pace through a short retry_after and fail on a long one with a per-user error', async () => {
    await control(sb, 'POST', '/faults', { service: 'dropbox', kind: 'rate-limit', retryAfter: 1, times: 1 });
    await expect(sut.listActivities(ctx, { exhaustive: true })).resolves.toBeDefined();
    await control(sb, 'POST', '/faults', { service: 'dropbox', kind: 'rate-limit', retryAfter: 300, times: 1 });
    await expect(sut.listActivities(ctx, { exhaustive: true })).rejects.toMatchObject({
      retryAfterMs: 300_000,
      scope: 'user',
    });
    await control(sb, 'POST', '/faults', { service: 'dropbox', kind: 'status', status: 503, times: 1 });
    await expect(sut.listActivities(ctx, { exhaustive: true })).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(RateLimitedError).toBeDefined();
  });

  it('should report a full account as AccountFullError', async () => {
    await control(sb, 'PATCH', `/dropbox/accounts/${encodeURIComponent(accountId)}`, { quotaBytes: 10 });
    await expect(sut.uploadActivity(ctx, fixtureActivity('fit/garmin-fenix-5-walk.fit'))).rejects.toBeInstanceOf(
      AccountFullError,
    );
  });

  it('should wake a long-poll when a file arrives', async () => {
    await control(sb, 'POST', '/dropbox/files', {
      account: accountId,
      path: '/Tributary/runs/first.fit',
      fixture: 'fit/garmin-fenix-5-run.fit',
    });
    const { checkpoint } = await listAll(true);
    expect(checkpoint?.cursor).toEqual(expect.any(String));
    ctx.config = { ...ctx.config, ...checkpoint };
    const waiting = sut.waitForChanges(ctx, 30);
    await new Promise((r) => setTimeout(r, 100));
    await control(sb, 'POST', '/dropbox/files', {
      account: accountId,
      path: '/Tributary/swim/lap.fit',
      fixture: 'fit/garmin-fenix-5-walk.fit',
    });
    await expect(waiting).resolves.toMatchObject({ changes: true });
    const delta = await listAll(false);
    expect(delta.all.map((a) => [a.remoteId, a.type])).toEqual([['/Tributary/swim/lap.fit', 'swimming']]);
  });

  it('should verify the webhook and accept only signed notifications', async () => {
    const events: WebhookEvent[] = [];
    let rejected = 0;
    const hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          if (req.method === 'GET') {
            const q = Object.fromEntries(new URL(req.url ?? '/', 'http://hook').searchParams);
            const answer = sut.verifySubscription(q);
            res.writeHead(answer.status, { 'content-type': answer.contentType, ...answer.headers }).end(answer.body);
          } else {
            events.push(...sut.parseWebhook(req.headers, Buffer.concat(chunks)));
            res.writeHead(200).end();
          }
        } catch {
          rejected++;
          res.writeHead(403).end();
        }
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/webhooks/dropbox`;
      await control(sb, 'PUT', '/dropbox/webhook', { url });
      await control(sb, 'POST', '/dropbox/notify', { accounts: [accountId] });
      await control(sb, 'POST', '/settle');
      expect(events).toContainEqual({ externalUserId: accountId, kind: 'changed' });
      expect(rejected).toBe(0);
    } finally {
      hook.closeAllConnections();
      await new Promise<void>((resolve) => hook.close(() => resolve()));
    }
  });
});
