import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  type ConnectorContext,
  DuplicateAtDestinationError,
  GarminConnector,
  InvalidCredentialsError,
  type JsonObject,
  MfaRequiredError,
  RateLimitedError,
  UnlimitedRateLimiter,
  UploadConsentRequiredError,
  UploadStillProcessingError,
  UpstreamUnavailableError,
  formatsCodec,
} from '@tributary/connectors';
import { type SandboxHandle, type SandboxOptions, startSandbox } from '../../apps/sandbox/src';

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures');

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
  return {
    connectionId: 'contract',
    credentials,
    config: {},
    saved,
    saveCredentials: (next) => {
      saved.push(next);
      return Promise.resolve();
    },
  };
}

function fixtureActivity(name: string) {
  const bytes = new Uint8Array(readFileSync(path.join(FIXTURES, name)));
  return { ...formatsCodec.decodeActivity(bytes, 'fit'), original: { format: 'fit' as const, bytes } };
}

describe('Garmin Connect connector against the Garmin simulator', () => {
  let sb: SandboxHandle;
  let sut: GarminConnector;

  async function restart(options: SandboxOptions = {}): Promise<void> {
    await sb?.close();
    sb = await startSandbox({ port: 0, ...options });
    sut = new GarminConnector(
      { baseUrl: sb.urls.garmin, ssoUrl: sb.urls.garminSso, uploadPollScheduleMs: [10, 20, 40] },
      { limiter: new UnlimitedRateLimiter(), codec: formatsCodec },
    );
    await control(sb, 'POST', '/garmin/accounts', { username: 'ada@example.com', password: 'pw' });
  }

  beforeEach(() => restart());
  afterAll(() => sb.close());

  async function connect(): Promise<ConnectorContext & { saved: JsonObject[] }> {
    const account = await sut.authorize({ username: 'ada@example.com', password: 'pw' });
    expect(account.externalUserId).toBe('ada@example.com');
    return context(account.credentials);
  }

  async function listAll(ctx: ConnectorContext) {
    const all = [];
    let cursor: string | undefined;
    do {
      const page = await sut.listActivities(ctx, { exhaustive: true, cursor });
      all.push(...page.activities);
      cursor = page.cursor;
    } while (cursor !== undefined);
    return all;
  }

  it('should run the whole lifecycle: login, list, download, upload, duplicate, revoke', async () => {
    const ctx = await connect();
    await control(sb, 'POST', '/garmin/activities', {
      username: 'ada@example.com',
      fixture: 'fit/garmin-fenix-5-run.fit',
    });
    const listed = await listAll(ctx);
    expect(listed).toHaveLength(1);
    const downloaded = await sut.downloadActivity(ctx, listed[0]!);
    expect(downloaded.original?.format).toBe('fit');
    expect(downloaded.samples.length).toBeGreaterThan(10);
    expect(downloaded.start).toBe(listed[0]!.start);

    const bike = fixtureActivity('fit/garmin-fenix-5-bike.fit');
    const uploaded = await sut.uploadActivity(ctx, { ...bike, name: 'Contract ride' });
    expect(uploaded.remoteId).toMatch(/^\d+$/);
    const afterUpload = await listAll(ctx);
    expect(afterUpload.find((a) => a.remoteId === uploaded.remoteId)?.name).toBe('Contract ride');

    const dup = await sut.uploadActivity(ctx, bike).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(DuplicateAtDestinationError);
    expect((dup as DuplicateAtDestinationError).existingRemoteId).toBe(uploaded.remoteId);
    expect(await listAll(ctx)).toHaveLength(2);

    await sut.revoke(ctx);
    expect(ctx.saved.at(-1)).toEqual({ username: 'ada@example.com', password: '' });
  });

  it('should reject a wrong password and walk through MFA', async () => {
    await expect(sut.authorize({ username: 'ada@example.com', password: 'nope' })).rejects.toBeInstanceOf(
      InvalidCredentialsError,
    );
    await control(sb, 'POST', '/garmin/accounts', {
      username: 'mfa@example.com',
      password: 'pw',
      mfa: true,
      mfaCode: '654321',
    });
    const err = (await sut
      .authorize({ username: 'mfa@example.com', password: 'pw' })
      .catch((e: unknown) => e)) as MfaRequiredError;
    expect(err).toBeInstanceOf(MfaRequiredError);
    await expect(
      sut.authorize({ username: 'mfa@example.com', password: 'pw', mfa: { code: '000000', session: err.session } }),
    ).rejects.toBeInstanceOf(MfaRequiredError);
    const ok = await sut.authorize({
      username: 'mfa@example.com',
      password: 'pw',
      mfa: { code: '654321', session: err.session },
    });
    expect(ok.externalUserId).toBe('mfa@example.com');
    await expect(sut.listActivities(context(ok.credentials), { exhaustive: true })).resolves.toBeDefined();
  });

  it('should reuse the session, and log in again once it has expired', async () => {
    const ctx = await connect();
    await sut.listActivities(ctx, { exhaustive: true });
    expect(ctx.saved).toHaveLength(0);
    await control(sb, 'POST', '/garmin/sessions/expire', { username: 'ada@example.com', includeRefresh: true });
    await sut.listActivities(ctx, { exhaustive: true });
    expect(ctx.saved).toHaveLength(1);
  });

  it('should never take the ROLE_SYSTEM demo data for the user’s activities', async () => {
    await restart({ garmin: { roleSystemTrap: true } });
    const ctx = await connect();
    await control(sb, 'POST', '/garmin/activities', {
      username: 'ada@example.com',
      fixture: 'fit/garmin-fenix-5-run.fit',
    });
    await control(sb, 'POST', '/garmin/sessions/expire', { username: 'ada@example.com', includeRefresh: true });
    // The session looks valid locally; the simulator answers the dead session with demo data and 200.
    const page = await sut.listActivities(ctx, { exhaustive: true });
    expect(page.activities.map((a) => a.name)).not.toContain('Demo Run 1');
    expect(page.activities).toHaveLength(1);
    expect(ctx.saved).toHaveLength(1);
  });

  it('should map injected faults and refused consent to typed errors', async () => {
    const ctx = await connect();
    await control(sb, 'POST', '/faults', { service: 'garmin', mount: 'garmin', kind: 'status', status: 503, times: 1 });
    await expect(sut.listActivities(ctx, { exhaustive: true })).rejects.toBeInstanceOf(UpstreamUnavailableError);
    await control(sb, 'POST', '/faults', { service: 'garmin', mount: 'garmin', kind: 'rate-limit', times: 1 });
    await expect(sut.listActivities(ctx, { exhaustive: true })).rejects.toBeInstanceOf(RateLimitedError);

    await control(sb, 'POST', '/garmin/accounts', { username: 'eu@example.com', password: 'pw', uploadConsent: false });
    const eu = context((await sut.authorize({ username: 'eu@example.com', password: 'pw' })).credentials);
    await expect(sut.uploadActivity(eu, fixtureActivity('fit/garmin-fenix-5-walk.fit'))).rejects.toBeInstanceOf(
      UploadConsentRequiredError,
    );
  });

  it('should resume a slow upload without uploading twice', async () => {
    await restart({ garmin: { uploadProcessingPolls: 6 } });
    const ctx = await connect();
    const walk = fixtureActivity('fit/garmin-fenix-5-walk.fit');
    const err = (await sut.uploadActivity(ctx, walk).catch((e: unknown) => e)) as UploadStillProcessingError;
    expect(err).toBeInstanceOf(UploadStillProcessingError);
    const done = await sut.uploadActivity(ctx, walk, { resumeUploadId: err.uploadId });
    expect(done.remoteId).toMatch(/^\d+$/);
    const stored = (await control(sb, 'GET', '/garmin/activities?username=ada@example.com')) as unknown[];
    expect(stored).toHaveLength(1);
  });
});
